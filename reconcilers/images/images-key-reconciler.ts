// The images reconciler behind the queue (key `images`): every image of the admitted desired state
// for this machine, then a new pass over the machine's stacks (queued here) begins.
import type { Clock } from "../../platform/clock.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { Observed } from "../../platform/observed.ts";
import { admittedState } from "../../policy/admitted-state.ts";
import { ServiceReason } from "../../status/reasons.ts";
import { done } from "../reconciler.ts";
import type { Reconciler, WorkKey } from "../reconciler.ts";
import { recordInPass } from "../source/record-pass.ts";
import type { RecordPassDeps } from "../source/record-pass.ts";
import { stacksToReconcile } from "../stacks/stack-reconciler.ts";
import type { ImageResolver } from "../stacks/third-party-images.ts";
import { statusKey } from "./images-reconciler.ts";
import type { ImagesReconciler } from "./images-reconciler.ts";
import { nextPushRetryMs } from "./pending-push.ts";
import { nextScanRetryMs } from "./scan-retry.ts";

export type ImagesKeyReconcilerDeps = RecordPassDeps & {
  images: ImagesReconciler;
  engine: Pick<DockerEngine, "observe">;
  clock: Clock;
  /** The pass's one engine look, handed on (the metrics scrape cache). */
  onObserved: (observed: Observed) => void;
  /** A fresh resolver of images berth does not build, for the pass. */
  newResolver: (machine: string) => ImageResolver;
  enqueue: (key: WorkKey) => void;
};

export function createImagesKeyReconciler(deps: ImagesKeyReconcilerDeps): Reconciler<"images"> {
  return {
    async reconcile(key, signal) {
      const desired = deps.state.desired;
      if (!desired) return done();
      const { state, machine, denied } = desired;
      const startedAt = deps.clock.now();
      const observed = await deps.engine.observe(signal);
      deps.onObserved(observed);
      const result = await deps.images.reconcile(admittedState(state, denied), machine, { observed, signal });
      const { names, refused } = await stacksToReconcile({ state, machine, store: deps.store, logger: deps.logger });
      const pass = deps.state.passes.begin(state.revision, names, { startedAt, refused });
      deps.state.images = {
        revision: state.revision,
        tags: Object.fromEntries(result.tags),
        holds: Object.fromEntries(result.holds),
        resolver: deps.newResolver(machine),
      };
      for (const name of names) deps.enqueue({ kind: "stack", name });
      // A push owed since the registry did not answer is tried again with backoff (and on every resync).
      const pushRetryMs = nextPushRetryMs(
        result.pushPending.map((name) => deps.store.get(statusKey(machine, name))),
        deps.clock.now(),
      );
      // So is a scan that failed while the gate holds rollouts on it (Waiting/ScanFailed), sooner than the resync.
      const scanRetryMs = nextScanRetryMs(
        result.outcomes
          .filter((o) => o.scan?.verdict.hold?.reason === ServiceReason.ScanFailed)
          .map((o) => deps.store.get(statusKey(machine, o.name))),
        deps.clock.now(),
      );
      const retries = [pushRetryMs, scanRetryMs].filter((ms) => ms !== undefined);
      const outcome = done(result.ok, retries.length > 0 ? Math.min(...retries) : undefined);
      await recordInPass(deps, pass, key, outcome);
      return outcome;
    },
  };
}
