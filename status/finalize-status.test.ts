import { describe, expect, it } from "vitest";
import type { Condition } from "./conditions.ts";
import { finalizeStatus } from "./finalize-status.ts";

const AT = "2026-12-01T00:00:00.000Z";

function c<R extends string>(type: Condition["type"], status: Condition["status"], reason: R): Condition<R> {
  return { type, status, reason, message: "", lastTransitionTime: AT };
}

describe("finalizeStatus", () => {
  it("drops abnormal conditions that are not True and keeps positive ones whatever their status", () => {
    const record = finalizeStatus({
      kind: "source",
      key: "source",
      conditions: [c("Degraded", "False", "Fine"), c("Ready", "True", "Applied"), c("Reconciling", "False", "PassComplete")],
      updatedAt: AT,
    });

    expect(record.conditions).toEqual([c("Ready", "True", "Applied")]);
  });

  it("keeps SourceVerified=False: it is not an abnormal condition", () => {
    const conditions = [c("Ready", "False", "InvalidDesiredState"), c("SourceVerified", "False", "VerificationFailed")];

    expect(finalizeStatus({ kind: "source", key: "source", conditions, updatedAt: AT }).conditions).toEqual(conditions);
  });

  it("gives a record nothing judged yet Ready=Unknown, reason Pending", () => {
    const record = finalizeStatus({ kind: "prune", key: "prune/pc2", conditions: [], records: { "sha256:a": 1 }, updatedAt: AT });

    expect(record.conditions).toEqual([
      { type: "Ready", status: "Unknown", reason: "Pending", message: "no prune has run yet", lastTransitionTime: AT },
    ]);
  });

  it("keeps an image's breached budgets only while its BudgetExceeded condition is True", () => {
    const budgets = [{ budget: "sizeMiB" as const, limit: 100 }];
    const over = finalizeStatus({
      kind: "image",
      key: "image/pc2/app",
      conditions: [c("BudgetExceeded", "True", "BudgetWarning"), c("Ready", "True", "Built")],
      budgets,
      updatedAt: AT,
    });
    const within = finalizeStatus({
      kind: "image",
      key: "image/pc2/app",
      conditions: [c("Ready", "True", "Built")],
      budgets,
      updatedAt: AT,
    });

    expect(over).toMatchObject({ budgets });
    expect(within).not.toHaveProperty("budgets");
  });

  it("drops a service's Waiting once it is Ready", () => {
    const record = finalizeStatus({
      kind: "service",
      key: "service/shop/web",
      conditions: [c("Ready", "True", "RolledOut"), c("Waiting", "True", "InsufficientVRAM")],
      updatedAt: AT,
    });

    expect(record.conditions.map((x) => x.type)).toEqual(["Ready"]);
  });

  it("changes nothing in a record that already follows the convention (same key order, so unchanged records compare equal)", () => {
    const record = {
      kind: "stack" as const,
      key: "stack/shop",
      conditions: [c("Ready", "False", "ServicesNotReady"), c("Stalled", "True", "PolicyDenied")],
      observedRevision: "r2",
      updatedAt: AT,
    };

    expect(JSON.stringify(finalizeStatus(record))).toBe(JSON.stringify(record));
  });
});
