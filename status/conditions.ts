// Kubernetes-style status conditions: type, status, PascalCase reason, human message.
import { compareText } from "../platform/compare-text.ts";
export type ConditionType =
  "Ready" | "Reconciling" | "Stalled" | "Degraded" | "BudgetExceeded" | "SourceVerified" | "Waiting" | "PushPending" | "Vulnerable";
export type ConditionStatus = "True" | "False" | "Unknown";

export type Condition = {
  type: ConditionType;
  status: ConditionStatus;
  /** PascalCase, machine-readable: RolledBack, BuildFailed, InsufficientVRAM, … */
  reason: string;
  message: string;
  /** ISO time the status last changed. */
  lastTransitionTime: string;
};

/** Sets (or replaces) a condition; the transition time only moves when the status changes. */
export function setCondition(conditions: readonly Condition[], next: Omit<Condition, "lastTransitionTime">, now: Date): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }].sort((a, b) => compareText(a.type, b.type));
}

export function removeCondition(conditions: readonly Condition[], type: ConditionType): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function getCondition(conditions: readonly Condition[], type: ConditionType): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[], type: ConditionType): boolean {
  return getCondition(conditions, type)?.status === "True";
}
