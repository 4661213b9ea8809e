// The git reconciler (key `git`): fetches, verifies and publishes the desired-state branch, records
// the outcome on the source record, and queues the source when there is something to load.
import type { GitSync } from "../../desired-state/git-sync.ts";
import type { Clock } from "../../platform/clock.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { done, terminal, transient } from "../reconciler.ts";
import type { Reconciler, WorkKey } from "../reconciler.ts";
import { sourceStatus } from "../source/source-status.ts";

export type GitReconcilerDeps = {
  gitSync: GitSync;
  /** Whether commits must be signed (`--verify-commits`): the SourceVerified condition says so. */
  verifyCommits: boolean;
  store: StatusStore;
  clock: Clock;
  enqueue: (key: WorkKey) => void;
  /** Whether a desired state was loaded since the agent started (the first sync always loads one). */
  loaded: () => boolean;
};

export type GitReconciler = Reconciler<"git"> & {
  /** Why the published source may not be applied (verification failed, or a replayed tip with --no-rollback). */
  blocked(): { reason: string; message: string } | undefined;
  /** A full pass (resync, `berth reconcile`): the source is loaded again even when the branch did not move. */
  requestPass(): void;
};

export function createGitReconciler(deps: GitReconcilerDeps): GitReconciler {
  const status = sourceStatus(deps.store, deps.clock);
  let blocked: { reason: string; message: string } | undefined;
  let passRequested = false;
  return {
    blocked: () => blocked,
    requestPass() {
      passRequested = true;
      deps.enqueue({ kind: "git" });
    },
    async reconcile() {
      const result = await deps.gitSync.sync();
      if (result.ok) {
        blocked = undefined;
        await status.update((p) => ({
          conditions: status.withConditions(
            p.conditions,
            {
              type: "SourceVerified",
              status: deps.verifyCommits ? "True" : "Unknown",
              reason: deps.verifyCommits ? "Verified" : "NotRequired",
              message: deps.verifyCommits
                ? `commit ${result.revision.slice(0, 7)} is signed by a trusted key`
                : "commit verification is off",
            },
            // A fetch that works again clears a FetchFailed/CheckoutFailed even when the branch did not move.
            { type: "Degraded", status: "False", reason: "Fine", message: "" },
          ),
        }));
        if (result.changed || !deps.loaded() || passRequested) deps.enqueue({ kind: "source" });
        passRequested = false;
        return done();
      }
      if (result.reason === "VerificationFailed" || result.reason === "NotDescendant") {
        blocked = { reason: result.reason, message: result.message };
        await status.update((p) => ({
          conditions: status.withConditions(p.conditions, {
            type: "SourceVerified",
            status: "False",
            reason: result.reason,
            message: result.message,
          }),
        }));
        return terminal(result.reason, result.message);
      }
      await status.update((p) => ({
        conditions: status.withConditions(p.conditions, {
          type: "Degraded",
          status: "True",
          reason: result.reason,
          message: `${result.message}; the host stays on the last good commit`,
        }),
      }));
      return transient(result.reason, result.message);
    },
  };
}
