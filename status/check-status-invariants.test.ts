import { describe, expect, it } from "vitest";
import { checkStatusInvariants } from "./check-status-invariants.ts";
import type { Condition } from "./conditions.ts";
import type { ResourceStatus } from "./resource-status.ts";
import { upgradeStatus } from "./status-store.ts";

const AT = "2026-12-01T00:00:00.000Z";

function c<R extends string>(type: Condition["type"], status: Condition["status"], reason: R): Condition<R> {
  return { type, status, reason, message: "", lastTransitionTime: AT };
}

const healthyService: ResourceStatus = {
  kind: "service",
  key: "service/shop/web",
  conditions: [c("Ready", "True", "RolledOut")],
  updatedAt: AT,
};

describe("checkStatusInvariants", () => {
  it("accepts records as the reconcilers write them", () => {
    const records: ResourceStatus[] = [
      healthyService,
      {
        kind: "image",
        key: "image/pc2/hub/app",
        conditions: [c("Ready", "False", "BuildFailed"), c("Stalled", "True", "BuildFailed")],
        observedRevision: "r2",
        lastAppliedRevision: "r1",
        updatedAt: AT,
      },
      {
        kind: "source",
        key: "source",
        conditions: [c("Ready", "True", "Applied"), c("Reconciling", "True", "Progressing")],
        observedRevision: "r2",
        lastAppliedRevision: "r1",
        updatedAt: AT,
      },
      { kind: "prune", key: "prune/pc2", conditions: [c("Ready", "Unknown", "Pending")], records: {}, updatedAt: AT },
    ];

    expect(records.flatMap(checkStatusInvariants)).toEqual([]);
  });

  it("names a record without Ready", () => {
    expect(checkStatusInvariants({ ...healthyService, conditions: [] })).toEqual(["service/shop/web: no Ready condition"]);
  });

  it("names an abnormal condition kept while False", () => {
    const record: ResourceStatus = {
      kind: "source",
      key: "source",
      conditions: [c("Degraded", "False", "Fine"), c("Ready", "True", "Applied")],
      updatedAt: AT,
    };

    expect(checkStatusInvariants(record)).toEqual(["source: Degraded=False is kept (abnormal conditions are present only while True)"]);
  });

  it("names a reason that is not PascalCase, and one that is not the kind's, in a record read from disk", () => {
    const record = upgradeStatus({ ...healthyService, conditions: [c("Ready", "True", "rolled-out"), c("Degraded", "True", "Applied")] });

    expect(checkStatusInvariants(record)).toEqual([
      'service/shop/web: Ready reason "rolled-out" is not PascalCase',
      'service/shop/web: Degraded reason "Applied" is not a service reason (status/reasons.ts)',
    ]);
  });

  it("names a kind its key does not name", () => {
    const record: ResourceStatus = {
      kind: "stack",
      key: "service/shop/web",
      conditions: [c("Ready", "True", "ServicesReady")],
      updatedAt: AT,
    };

    expect(checkStatusInvariants(record)).toEqual(['service/shop/web: kind "stack" but the key names a service']);
  });

  it("names revisions that disagree: applied without observed, Ready and settled on an older revision", () => {
    const stack: ResourceStatus = {
      kind: "stack",
      key: "stack/shop",
      conditions: [c("Ready", "True", "ServicesReady")],
      lastAppliedRevision: "r1",
      updatedAt: AT,
    };
    const image: ResourceStatus = {
      kind: "image",
      key: "image/pc2/app",
      conditions: [c("Ready", "True", "Built")],
      observedRevision: "r2",
      lastAppliedRevision: "r1",
      updatedAt: AT,
    };

    expect([...checkStatusInvariants(stack), ...checkStatusInvariants(image)]).toEqual([
      "stack/shop: lastAppliedRevision r1 without an observedRevision",
      "image/pc2/app: Ready=True but revision r2 observed and r1 applied",
    ]);
  });

  it("names a condition written twice", () => {
    const record: ResourceStatus = { ...healthyService, conditions: [c("Ready", "True", "RolledOut"), c("Ready", "False", "Unhealthy")] };

    expect(checkStatusInvariants(record)).toEqual(["service/shop/web: condition Ready appears twice"]);
  });
});
