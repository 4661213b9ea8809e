// The desired state as this host admits it: images that refused stacks would build are left out
// (a refused stack's build must not run either); the stacks stay, and the stacks reconciler
// leaves each refused one as it runs.
import type { DesiredState } from "../desired-state/desired-state.ts";

export function admittedState(state: DesiredState, deniedStacks: ReadonlyMap<string, unknown>): DesiredState {
  if (deniedStacks.size === 0) return state;
  return { ...state, images: state.images.filter((image) => image.origin.kind !== "service" || !deniedStacks.has(image.origin.stack)) };
}
