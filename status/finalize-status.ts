// Flux's condition convention, applied by the status store to every record it writes: abnormal
// conditions (Stalled, Degraded, Reconciling, Waiting, BudgetExceeded) only while True, Ready always.
import { compareText } from "../platform/compare-text.ts";
import type { Condition, ConditionType } from "./conditions.ts";
import { ImageReason, PruneReason, ServiceReason, SourceReason, StackReason } from "./reasons.ts";
import type { ImageStatus, PruneStatus, ResourceStatus, ServiceStatus, SourceStatus, StackStatus } from "./resource-status.ts";

/** Conditions that say something is wrong or under way: a record keeps them only while they are True. */
export const ABNORMAL_CONDITIONS: readonly ConditionType[] = ["Reconciling", "Stalled", "Degraded", "Waiting", "BudgetExceeded"];

export function isAbnormal(type: ConditionType): boolean {
  return ABNORMAL_CONDITIONS.includes(type);
}

/** Drops False/Unknown abnormal conditions and adds `Ready=Unknown` (reason Pending) when no writer judged the resource yet. */
function conventional<R extends string>(
  conditions: readonly Condition<R>[],
  updatedAt: string,
  reason: R,
  message: string,
): Condition<R>[] {
  const kept = conditions.filter((c) => !isAbnormal(c.type) || c.status === "True");
  if (kept.some((c) => c.type === "Ready")) return kept;
  const ready: Condition<R> = { type: "Ready", status: "Unknown", reason, message, lastTransitionTime: updatedAt };
  return [...kept, ready].sort((a, b) => compareText(a.type, b.type));
}

/** An image keeps the budgets it breaches only while its BudgetExceeded condition is True. */
export function finalizeImageStatus(status: ImageStatus): ImageStatus {
  const conditions = conventional(status.conditions, status.updatedAt, ImageReason.Pending, "no build or pull recorded yet");
  const next: ImageStatus = { ...status, conditions };
  if (!conditions.some((c) => c.type === "BudgetExceeded") || next.budgets?.length === 0) delete next.budgets;
  return next;
}

/** A service waits (Waiting) only while it is not Ready. */
export function finalizeServiceStatus(status: ServiceStatus): ServiceStatus {
  const ready = status.conditions.some((c) => c.type === "Ready" && c.status === "True");
  const conditions = conventional(
    status.conditions.filter((c) => !(ready && c.type === "Waiting")),
    status.updatedAt,
    ServiceReason.Pending,
    "no rollout judged yet",
  );
  return { ...status, conditions };
}

export function finalizeStackStatus(status: StackStatus): StackStatus {
  return { ...status, conditions: conventional(status.conditions, status.updatedAt, StackReason.Pending, "not reconciled yet") };
}

export function finalizeSourceStatus(status: SourceStatus): SourceStatus {
  return { ...status, conditions: conventional(status.conditions, status.updatedAt, SourceReason.Pending, "no pass has completed yet") };
}

export function finalizePruneStatus(status: PruneStatus): PruneStatus {
  return { ...status, conditions: conventional(status.conditions, status.updatedAt, PruneReason.Pending, "no prune has run yet") };
}

/** The record as the store keeps it: each kind's `finalize…Status`. */
export function finalizeStatus(status: ResourceStatus): ResourceStatus {
  switch (status.kind) {
    case "image":
      return finalizeImageStatus(status);
    case "service":
      return finalizeServiceStatus(status);
    case "stack":
      return finalizeStackStatus(status);
    case "source":
      return finalizeSourceStatus(status);
    case "prune":
      return finalizePruneStatus(status);
  }
}
