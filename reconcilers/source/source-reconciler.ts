// The source reconciler (key `source`): loads the published desired state, selects this host's
// machine, checks it against the host policy, and admits it (then queues the images) or refuses it,
// leaving the host as it was; every step is recorded on the source record.
import { realpath } from "node:fs/promises";
import { hostname } from "node:os";
import { revisionFromPath } from "../../desired-state/git-sync.ts";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import type { LoadResult } from "../../desired-state/load-desired-state.ts";
import type { ComposeNormalizer } from "../../desired-state/normalize-compose.ts";
import { formatProblem } from "../../desired-state/problem.ts";
import type { Clock } from "../../platform/clock.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { Logger } from "../../platform/logger.ts";
import { checkHostPolicy } from "../../policy/check-host-policy.ts";
import type { Policy } from "../../policy/policy-schema.ts";
import { summarizeProblems } from "../../policy/policy-problems.ts";
import { selectMachine } from "../../profiles/select-machine.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { done, terminal } from "../reconciler.ts";
import type { Reconciler, WorkKey } from "../reconciler.ts";
import type { Desired, PassState } from "./pass-state.ts";
import { sourceStatus } from "./source-status.ts";

export type SourceReconcilerDeps = {
  /** The directory to load: the git source's `current` link (`git: true`), or the desired-state directory. */
  published: string;
  git: boolean;
  /** Why the git source may not be applied, if it may not. */
  blocked: () => { reason: string; message: string } | undefined;
  normalizer: ComposeNormalizer;
  policy: Policy;
  /** `--machine`, when given. */
  machine?: string;
  engine: Pick<DockerEngine, "inspectImage">;
  store: StatusStore;
  clock: Clock;
  logger: Logger;
  state: PassState;
  /** Every load, valid or not (metrics). */
  onLoad: (loaded: LoadResult) => void;
  /** A desired state admitted: resync and prune schedules follow it. */
  onAdmit: (desired: Desired) => void;
  enqueue: (key: WorkKey) => void;
};

export function createSourceReconciler(deps: SourceReconcilerDeps): Reconciler<"source"> {
  const { logger } = deps;
  const status = sourceStatus(deps.store, deps.clock);
  return {
    async reconcile() {
      const blocked = deps.blocked();
      if (blocked) return terminal(blocked.reason, blocked.message);
      let root: string;
      try {
        root = await realpath(deps.published);
      } catch {
        if (deps.git) return done(); // nothing published yet: the git key publishes and re-adds us
        return terminal("DesiredStateMissing", `desired-state directory ${deps.published} not found`);
      }
      const revision = deps.git ? revisionFromPath(root) : undefined;
      logger.info({ root, ...(revision ? { revision } : {}) }, "pass started");
      const loaded = await loadDesiredState(root, { compose: deps.normalizer, ...(revision ? { revision } : {}) });
      deps.onLoad(loaded);
      if (!loaded.ok) {
        const message =
          loaded.problems.slice(0, 5).map(formatProblem).join("; ") +
          (loaded.problems.length > 5 ? `; and ${loaded.problems.length - 5} more` : "");
        await status.update((p) => ({
          ...(loaded.revision ? { observedRevision: loaded.revision } : {}),
          conditions: status.withConditions(
            p.conditions,
            { type: "Stalled", status: "True", reason: "InvalidDesiredState", message },
            {
              type: "Ready",
              status: "False",
              reason: "InvalidDesiredState",
              message: "the host keeps running the last applied desired state",
            },
          ),
        }));
        logger.error(
          { revision: loaded.revision, problems: loaded.problems.length, first: message },
          "desired state invalid, host left as it was",
        );
        return terminal("InvalidDesiredState", message);
      }
      const state = loaded.state;
      const selection = selectMachine(state, {
        ...(deps.machine ? { flag: deps.machine } : {}),
        ...(deps.policy.machine ? { policy: deps.policy.machine } : {}),
        hostname: hostname(),
      });
      if (!selection.ok) {
        await status.update((p) => ({
          observedRevision: state.revision,
          conditions: status.withConditions(
            p.conditions,
            { type: "Stalled", status: "True", reason: "MachineNotSelected", message: selection.message },
            {
              type: "Ready",
              status: "False",
              reason: "MachineNotSelected",
              message: "the host keeps running the last applied desired state",
            },
          ),
        }));
        return terminal("MachineNotSelected", selection.message);
      }
      const denials = await checkHostPolicy(deps.policy, state, selection.machine, { engine: deps.engine });
      if (denials.fleet.length > 0) {
        const message = summarizeProblems(denials.fleet, 5);
        await status.update((p) => ({
          observedRevision: state.revision,
          conditions: status.withConditions(
            p.conditions,
            { type: "Stalled", status: "True", reason: "PolicyDenied", message },
            { type: "Ready", status: "False", reason: "PolicyDenied", message: "the host keeps running the last applied desired state" },
          ),
        }));
        logger.error(
          { revision: state.revision, violations: denials.fleet.length, first: message },
          "desired state refused by the host policy, host left as it was",
        );
        return terminal("PolicyDenied", message);
      }
      const desired: Desired = { state, machine: selection.machine, denied: denials.stacks };
      deps.state.desired = desired;
      deps.onAdmit(desired);
      await status.update((p) => ({
        observedRevision: state.revision,
        conditions: status.withConditions(
          p.conditions,
          { type: "Stalled", status: "False", reason: "Valid", message: "" },
          { type: "Reconciling", status: "True", reason: "Progressing", message: `applying ${state.revision}` },
        ),
      }));
      logger.info({ revision: state.revision, machine: selection.machine }, "desired state loaded");
      deps.enqueue({ kind: "images" });
      return done();
    },
  };
}
