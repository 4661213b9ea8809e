// A pass: the host over one desired revision (images, then every stack), complete when each has
// an outcome; a newer revision's pass supersedes it. Pure: the source status is written from it.
import type { SourceReason } from "../../status/reasons.ts";
import type { Condition } from "../../status/conditions.ts";
import { isReady } from "../reconciler.ts";
import type { Outcome, WorkKey } from "../reconciler.ts";

export type ReadyCondition = Omit<Condition<SourceReason>, "lastTransitionTime">;

/**
 * What recording an outcome did to its pass:
 * - `pending`: the pass still waits for other resources;
 * - `completed`: this outcome was the last the pass waited for;
 * - `outside`: the pass did not wait for this key (it was complete, or the key is not part of it);
 * - `superseded`: a newer pass began; the outcome only counts for the resource's own status.
 */
export type PassStep = "pending" | "completed" | "outside" | "superseded";

export type Pass = {
  readonly revision: string;
  /** Unix ms the pass began (its duration metric). */
  readonly startedAt: number;
  record(key: WorkKey, outcome: Outcome): PassStep;
  isComplete(): boolean;
  /** Every resource of the pass Ready, and the desired state not refused. */
  ok(): boolean;
  /** The host's Ready condition this pass leads to. */
  hostReady(): ReadyCondition;
  /**
   * The host's Ready when its stacks' readiness changed after the pass (a docker event), from the
   * pass's images and `stacksReady`; undefined when the pass refused an empty desired state.
   */
  hostReadyWith(stacksReady: boolean): ReadyCondition | undefined;
};

export type Passes = {
  /** A new pass over `stacks`; it waits for the images outcome and one outcome per stack. */
  begin(revision: string, stacks: readonly string[], options: { startedAt: number; refused?: readonly string[] }): Pass;
  /** The newest pass, if one began. */
  current(): Pass | undefined;
  /** Whether any pass has completed (the agent is ready to serve). */
  completedOnce(): boolean;
};

export function readyCondition(revision: string, ready: boolean): ReadyCondition {
  return ready
    ? { type: "Ready", status: "True", reason: "Applied", message: `revision ${revision} applied` }
    : {
        type: "Ready",
        status: "False",
        reason: "ResourcesNotReady",
        message: "some images or services are not ready; see their conditions",
      };
}

export function createPasses(): Passes {
  let current: Pass | undefined;
  let completed = false;

  function begin(revision: string, stacks: readonly string[], options: { startedAt: number; refused?: readonly string[] }): Pass {
    const pending = new Set<string>(stacks);
    let imagesRecorded = false;
    let imagesReady = false;
    let allReady = true;
    const refused =
      stacks.length === 0 && options.refused && options.refused.length > 0
        ? `the desired state has no stacks; keeping ${options.refused.join(", ")} (set allowEmpty: true in berth.yaml to remove everything)`
        : undefined;
    const isComplete = (): boolean => imagesRecorded && pending.size === 0;
    const pass: Pass = {
      revision,
      startedAt: options.startedAt,
      record(key, outcome) {
        if (current !== pass) return "superseded";
        const waited = key.kind === "images" ? !imagesRecorded : key.kind === "stack" && pending.has(key.name);
        if (!waited || isComplete()) return "outside";
        if (key.kind === "images") {
          imagesRecorded = true;
          imagesReady = isReady(outcome);
        } else if (key.kind === "stack") pending.delete(key.name);
        if (!isReady(outcome)) allReady = false;
        if (!isComplete()) return "pending";
        completed = true;
        return "completed";
      },
      isComplete,
      ok: () => allReady && refused === undefined,
      hostReady: () =>
        refused
          ? { type: "Ready", status: "False", reason: "EmptyDesiredStateRefused", message: refused }
          : readyCondition(revision, pass.ok()),
      hostReadyWith: (stacksReady) => (refused ? undefined : readyCondition(revision, imagesReady && stacksReady)),
    };
    current = pass;
    return pass;
  }

  return { begin, current: () => current, completedOnce: () => completed };
}
