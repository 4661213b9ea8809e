// The stack reconciler behind the queue (key `stack/<name>`): one stack against the admitted desired
// state and the images of its revision, its outcome recorded in the pass that was current when it began.
import { profileOf } from "../../desired-state/desired-state.ts";
import type { Outcome, Reconciler } from "../reconciler.ts";
import { done, transient } from "../reconciler.ts";
import { readyForStacks } from "../source/pass-state.ts";
import type { Desired, ImagesRound } from "../source/pass-state.ts";
import { recordInPass } from "../source/record-pass.ts";
import type { RecordPassDeps } from "../source/record-pass.ts";
import type { StackContext } from "./stack-context.ts";
import type { StackLocks } from "./stack-lock.ts";
import { reconcileStack } from "./stack-reconciler.ts";
import type { StackResult } from "./stack-reconciler.ts";

/** The process's side of a stack reconcile; the desired state and the images come from the pass state. */
export type StackPorts = Pick<
  StackContext,
  "engine" | "compose" | "store" | "lock" | "clock" | "logger" | "events" | "ops" | "admit" | "gpu" | "scanGate"
>;

export type StackReconcilerDeps = RecordPassDeps & { ports: StackPorts; locks: StackLocks };

export function createStackKeyReconciler(deps: StackReconcilerDeps): Reconciler<"stack"> {
  return {
    async reconcile(key) {
      const ready = readyForStacks(deps.state);
      if (!ready) return done(); // images first; the images key queues the stacks again
      const pass = deps.state.passes.current();
      let outcome: Outcome;
      try {
        outcome = stackOutcome(
          await deps.locks.run(key.name, () => reconcileStack(key.name, stackContext(deps.ports, ready.desired, ready.images))),
        );
      } catch (error) {
        outcome = transient("ReconcileFailed", error instanceof Error ? error.message : String(error));
      }
      await recordInPass(deps, pass, key, outcome);
      return outcome;
    },
  };
}

function stackContext(ports: StackPorts, desired: Desired, images: ImagesRound): StackContext {
  const { state, machine, denied } = desired;
  const { tags: imageTags, holds: imageHolds, resolver: imageResolver } = images;
  return { ...ports, state, machine, denied, profile: profileOf(state, machine), imageTags, imageHolds, imageResolver };
}

/**
 * What failed for the engine's or compose's sake (a drifted container not restored, a first start
 * compose could not carry out) is transient, retried with the queue's backoff; a failed rollout is
 * held until the desired state changes; a service waiting for VRAM is looked at again when it asks.
 */
export function stackOutcome(result: StackResult): Outcome {
  const retryable = result.services.filter((s) => s.retry);
  if (retryable.length > 0)
    return transient("RetryableFailure", retryable.map((s) => `${result.stack}/${s.service}: ${s.message}`).join("; "));
  return done(result.ready, result.requeueAfterMs);
}
