// Kubernetes-style status conditions: type, status, PascalCase reason, human message.
import { compareText } from "../platform/compare-text.ts";
export type ConditionType =
  "Ready" | "Reconciling" | "Stalled" | "Degraded" | "BudgetExceeded" | "SourceVerified" | "Waiting" | "PushPending" | "Vulnerable";
export type ConditionStatus = "True" | "False" | "Unknown";

export type Condition<R extends string = string> = {
  type: ConditionType;
  status: ConditionStatus;
  /** PascalCase, machine-readable: RolledBack, BuildFailed, InsufficientVRAM, … (per kind: status/reasons.ts) */
  reason: R;
  message: string;
  /** ISO time the status last changed. */
  lastTransitionTime: string;
};

/** Sets (or replaces) a condition; the transition time only moves when the status changes. */
export function setCondition<R extends string>(
  conditions: readonly Condition<R>[],
  next: Omit<Condition<R>, "lastTransitionTime">,
  now: Date,
): Condition<R>[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }].sort((a, b) => compareText(a.type, b.type));
}

export function removeCondition<R extends string>(conditions: readonly Condition<R>[], type: ConditionType): Condition<R>[] {
  return conditions.filter((c) => c.type !== type);
}

export function getCondition<R extends string>(conditions: readonly Condition<R>[], type: ConditionType): Condition<R> | undefined {
  return conditions.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[], type: ConditionType): boolean {
  return getCondition(conditions, type)?.status === "True";
}
