// Status records of services and stacks, pure: conditions from a verdict, history after a rollout.
import { setCondition, removeCondition } from "../../status/conditions.ts";
import type { Condition } from "../../status/conditions.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { KeyOf } from "../../status/resource-key.ts";
import type { ServiceStatus, StackStatus, RollbackEntry } from "../../status/resource-status.ts";
import { currentTag, pushHistory, rollbackTag } from "./rollback-history.ts";

export type Verdict =
  | { ready: true; reason: string; message: string; degraded?: { reason: string; message: string } }
  | {
      ready: false;
      reason: string;
      message: string;
      degraded?: { reason: string; message: string };
      waiting?: boolean;
      reconciling?: boolean;
      /** Not a verdict on the version (the engine or compose failed): the agent retries with backoff. */
      retry?: boolean;
      /** Nothing will change until the desired state (or the host policy) does. */
      stalled?: boolean;
    };

export function serviceKey(stack: string, service: string): KeyOf<"service"> {
  return { kind: "service", stack, service };
}

export function stackKey(stack: string): KeyOf<"stack"> {
  return { kind: "stack", name: stack };
}

/** A service's or a stack's record before anything was recorded of it. */
export function emptyStatus(key: KeyOf<"service">, now: Date): ServiceStatus;
export function emptyStatus(key: KeyOf<"stack">, now: Date): StackStatus;
export function emptyStatus(key: KeyOf<"service"> | KeyOf<"stack">, now: Date): ServiceStatus | StackStatus {
  return { kind: key.kind, key: formatKey(key), conditions: [], updatedAt: now.toISOString() };
}

/** The record with the verdict's conditions (a service's or a stack's: `previous` comes from `emptyStatus` when there was none). */
export function applyVerdict<S extends ServiceStatus | StackStatus>(previous: S, verdict: Verdict, now: Date): S {
  let conditions: Condition[] = previous.conditions;
  conditions = setCondition(
    conditions,
    { type: "Ready", status: verdict.ready ? "True" : "False", reason: verdict.reason, message: verdict.message },
    now,
  );
  conditions = verdict.degraded
    ? setCondition(
        conditions,
        { type: "Degraded", status: "True", reason: verdict.degraded.reason, message: verdict.degraded.message },
        now,
      )
    : removeCondition(conditions, "Degraded");
  conditions =
    !verdict.ready && verdict.waiting
      ? setCondition(conditions, { type: "Waiting", status: "True", reason: verdict.reason, message: verdict.message }, now)
      : removeCondition(conditions, "Waiting");
  conditions =
    !verdict.ready && verdict.stalled
      ? setCondition(conditions, { type: "Stalled", status: "True", reason: verdict.reason, message: verdict.message }, now)
      : removeCondition(conditions, "Stalled");
  conditions =
    !verdict.ready && verdict.reconciling
      ? setCondition(conditions, { type: "Reconciling", status: "True", reason: verdict.reason, message: verdict.message }, now)
      : removeCondition(conditions, "Reconciling");
  return { ...previous, conditions, updatedAt: now.toISOString() };
}

/** After a healthy rollout: the old current joins the history, the new one becomes current. */
export function recordRollout(
  status: ServiceStatus,
  entry: RollbackEntry,
  limit: number,
  stack: string,
  service: string,
): { status: ServiceStatus; dropped: RollbackEntry[] } {
  const next: RollbackEntry = { ...entry, tag: currentTag(stack, service) };
  const same = (e: RollbackEntry): boolean => e.imageId === next.imageId && e.specHash === next.specHash;
  const old = status.current;
  const base = (status.history ?? []).filter((e) => !same(e));
  const { history, dropped } =
    old && !same(old)
      ? pushHistory(base, old, limit, stack, service)
      : { history: base.map((e, i) => ({ ...e, tag: rollbackTag(stack, service, i + 1) })), dropped: [] };
  return { status: { ...status, current: next, history, lastAppliedRevision: entry.revision }, dropped };
}

/** Whether two records differ in anything but their update time. */
export function statusChanged(a: ServiceStatus | StackStatus | undefined, b: ServiceStatus | StackStatus): boolean {
  if (!a) return true;
  return JSON.stringify({ ...a, updatedAt: "" }) !== JSON.stringify({ ...b, updatedAt: "" });
}

export function shortRevision(revision: string): string {
  return revision.replace(/^content-/, "").slice(0, 7);
}
