// Records a resource's outcome in its pass and writes what that changes on the source record: the
// pass complete (Reconciling=False, Ready, lastAppliedRevision), or the host's Ready following its stacks.
import { forMachine } from "../../desired-state/desired-state.ts";
import type { Clock } from "../../platform/clock.ts";
import type { Logger } from "../../platform/logger.ts";
import { getCondition } from "../../status/conditions.ts";
import type { ReconcileEvents } from "../../status/reconcile-events.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { Outcome, WorkKey } from "../reconciler.ts";
import { stackKey } from "../stacks/service-status.ts";
import type { Pass } from "./pass.ts";
import { readyForStacks } from "./pass-state.ts";
import type { PassState } from "./pass-state.ts";
import { sourceStatus } from "./source-status.ts";

export type RecordPassDeps = { store: StatusStore; clock: Clock; logger: Logger; events: ReconcileEvents; state: PassState };

/** `pass`: the pass that was current when the reconcile of `key` began. */
export async function recordInPass(deps: RecordPassDeps, pass: Pass | undefined, key: WorkKey, outcome: Outcome): Promise<void> {
  if (!pass) return;
  const step = pass.record(key, outcome);
  if (step === "completed") await completePass(deps, pass);
  else if (step === "outside" && pass.isComplete()) await followStacks(deps, pass);
}

async function completePass(deps: RecordPassDeps, pass: Pass): Promise<void> {
  const status = sourceStatus(deps.store, deps.clock);
  const ok = pass.ok();
  const seconds = (deps.clock.now() - pass.startedAt) / 1000;
  deps.events.reconciled("pass", ok ? "success" : "failure", seconds);
  await status.update((p) => ({
    ...(ok ? { lastAppliedRevision: pass.revision } : {}),
    conditions: status.withConditions(
      p.conditions,
      { type: "Reconciling", status: "False", reason: "PassComplete", message: "" },
      pass.hostReady(),
      { type: "Degraded", status: "False", reason: "Fine", message: "" },
    ),
  }));
  deps.logger.info({ revision: pass.revision, ok, seconds }, "pass complete");
}

/**
 * A stack reconciled after its pass (a docker event: a service turned healthy, or died and could
 * not be restored): the host's Ready follows its stacks without waiting for the next pass.
 */
async function followStacks(deps: RecordPassDeps, pass: Pass): Promise<void> {
  const ready = readyForStacks(deps.state);
  if (!ready || ready.desired.state.revision !== pass.revision) return;
  const { state, machine } = ready.desired;
  const status = sourceStatus(deps.store, deps.clock);
  const now = getCondition(status.get()?.conditions ?? [], "Ready");
  if (now?.reason !== "Applied" && now?.reason !== "ResourcesNotReady") return;
  const stacksReady = forMachine(state, machine).stacks.every(
    (s) => getCondition(deps.store.get(stackKey(s.name))?.conditions ?? [], "Ready")?.status === "True",
  );
  const next = pass.hostReadyWith(stacksReady);
  if (!next || (now.status === "True") === (next.status === "True")) return;
  const allReady = next.status === "True";
  await status.update((p) => ({
    ...(allReady ? { lastAppliedRevision: state.revision } : {}),
    conditions: status.withConditions(p.conditions, next),
  }));
  deps.logger.info({ revision: state.revision, ready: allReady }, "host readiness changed");
}
