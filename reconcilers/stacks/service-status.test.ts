// Fixture tests of rollback history: newest first, limited to N, tags renumbered, no duplicates.
import { describe, expect, it } from "vitest";
import type { RollbackEntry, ServiceStatus } from "../../status/resource-status.ts";
import { applyVerdict, emptyStatus, recordRollout, serviceKey } from "./service-status.ts";
import { dependencyWaves } from "./dependency-order.ts";

function entry(n: number): RollbackEntry {
  return { imageId: `sha256:${n}`, tag: "", revision: `r${n}`, specHash: `h${n}`, config: { image: `web:v${n}` }, recordedAt: n };
}

function rollOut(versions: number[], limit = 3): ServiceStatus {
  let status: ServiceStatus = { kind: "service", key: "service/shop/web", conditions: [], updatedAt: "" };
  for (const v of versions) status = recordRollout(status, entry(v), limit, "shop", "web").status;
  return status;
}

describe("recordRollout", () => {
  it("makes the previous version rollback-1 and the new one current", () => {
    const status = rollOut([1, 2]);
    expect(status.current).toMatchObject({ imageId: "sha256:2", tag: "berth-rollback/shop-web:current" });
    expect(status.history).toEqual([expect.objectContaining({ imageId: "sha256:1", tag: "berth-rollback/shop-web:rollback-1" })]);
  });

  it("keeps only the last N previous versions, newest first", () => {
    const status = rollOut([1, 2, 3, 4, 5], 3);
    expect(status.history?.map((e) => [e.imageId, e.tag])).toEqual([
      ["sha256:4", "berth-rollback/shop-web:rollback-1"],
      ["sha256:3", "berth-rollback/shop-web:rollback-2"],
      ["sha256:2", "berth-rollback/shop-web:rollback-3"],
    ]);
  });

  it("does not list the running version in its own history (rolling back to rollback-2 and on)", () => {
    const status = rollOut([1, 2, 3, 1]);
    expect(status.current?.imageId).toBe("sha256:1");
    expect(status.history?.map((e) => e.imageId)).toEqual(["sha256:3", "sha256:2"]);
  });
});

describe("applyVerdict", () => {
  it("sets Ready false and Degraded RolledBack after a rollback, and clears Degraded once healthy", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const rolledBack = applyVerdict(
      emptyStatus(serviceKey("shop", "web"), now),
      { ready: false, reason: "RolledBack", message: "v3 failed", degraded: { reason: "RolledBack", message: "v3 failed" } },
      now,
    );
    expect(rolledBack.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Degraded", "True", "RolledBack"],
      ["Ready", "False", "RolledBack"],
    ]);
    const healthy = applyVerdict(rolledBack, { ready: true, reason: "RolledOut", message: "ok" }, now);
    expect(healthy.conditions.map((c) => [c.type, c.status])).toEqual([["Ready", "True"]]);
  });
});

describe("dependencyWaves", () => {
  it("starts dependencies first and survives a cycle", () => {
    expect(
      dependencyWaves([
        { name: "web", dependsOn: ["db", "cache"] },
        { name: "db", dependsOn: [] },
        { name: "cache", dependsOn: ["db"] },
      ]),
    ).toEqual([["db"], ["cache"], ["web"]]);
    expect(
      dependencyWaves([
        { name: "a", dependsOn: ["b"] },
        { name: "b", dependsOn: ["a"] },
      ])
        .flat()
        .sort(),
    ).toEqual(["a", "b"]);
  });
});

describe("stopGraceSeconds", () => {
  it("reads compose durations and falls back to 10 s", async () => {
    const { stopGraceSeconds } = await import("./stop-grace.ts");
    expect([
      stopGraceSeconds({ stop_grace_period: "1s" }),
      stopGraceSeconds({ stop_grace_period: "1m30s" }),
      stopGraceSeconds({}),
      stopGraceSeconds(undefined),
    ]).toEqual([1, 90, 10, 10]);
  });
});
