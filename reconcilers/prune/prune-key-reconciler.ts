// The prune reconciler behind the queue (key `prune`, queued by the cron schedule): one prune of the
// admitted desired state's machine, holding the host lock alone.
import type { Logger } from "../../platform/logger.ts";
import { done } from "../reconciler.ts";
import type { Reconciler } from "../reconciler.ts";
import type { PassState } from "../source/pass-state.ts";
import { runPrune } from "./prune-reconciler.ts";
import type { PruneDeps } from "./prune-reconciler.ts";

export function createPruneKeyReconciler(deps: {
  prune: PruneDeps;
  state: Pick<PassState, "desired">;
  logger: Logger;
}): Reconciler<"prune"> {
  return {
    async reconcile(_key, signal) {
      const desired = deps.state.desired;
      if (!desired) return done();
      const report = await runPrune(deps.prune, { state: desired.state, machine: desired.machine, dryRun: false, signal });
      deps.logger.info(
        { removedImages: report.removedImages, reclaimedBytes: report.reclaimedBytes, kept: report.kept.length, failed: report.failed },
        "prune complete",
      );
      return done(report.failed === 0);
    },
  };
}
