// What the source, images and stack reconcilers of one agent share: the admitted desired state, what
// the last images reconcile left for the stacks, and the passes (one object, created by the agent).
import type { DesiredState } from "../../desired-state/desired-state.ts";
import type { Problem } from "../../desired-state/problem.ts";
import type { ImageHold } from "../images/image-hold.ts";
import type { ImageResolver } from "../stacks/third-party-images.ts";
import { createPasses } from "./pass.ts";
import type { Passes } from "./pass.ts";

/** The loaded desired state, this host's machine, and the stacks the host policy refuses. */
export type Desired = { state: DesiredState; machine: string; denied: ReadonlyMap<string, Problem[]> };

/** What the images reconcile of one revision left for the stacks: exact tags, held rollouts, the pass's resolver. */
export type ImagesRound = {
  revision: string;
  tags: Readonly<Record<string, string>>;
  holds: Readonly<Record<string, ImageHold>>;
  /** The registry look-ups and pulls of images berth does not build (new each pass, and after `berth retry`). */
  resolver: ImageResolver;
};

export type PassState = {
  readonly passes: Passes;
  /** The last desired state the source reconciler admitted. */
  desired: Desired | undefined;
  images: ImagesRound | undefined;
};

export function createPassState(): PassState {
  return { passes: createPasses(), desired: undefined, images: undefined };
}

/** The desired state and its images round, when the images of the current revision have run (stacks go only then). */
export function readyForStacks(state: PassState): { desired: Desired; images: ImagesRound } | undefined {
  const { desired, images } = state;
  return desired && images && images.revision === desired.state.revision ? { desired, images } : undefined;
}
