import { describe, expect, it } from "vitest";
import { budgetBreaches, sharedBytesWithParent } from "./build-facts.ts";

const MIB = 1024 * 1024;

describe("build facts", () => {
  it("counts the parent's bytes as shared when its layers are a prefix of the image's", () => {
    expect(sharedBytesWithParent({ sizeBytes: 30 * MIB, layers: ["a", "b", "c"] }, { sizeBytes: 20 * MIB, layers: ["a", "b"] })).toBe(
      20 * MIB,
    );
    expect(sharedBytesWithParent({ sizeBytes: 30 * MIB, layers: ["a", "x"] }, { sizeBytes: 20 * MIB, layers: ["a", "b"] })).toBe(0);
    expect(sharedBytesWithParent({ sizeBytes: 30 * MIB, layers: ["a"] }, undefined)).toBeUndefined();
  });

  it("reports each breached budget and only measured ones", () => {
    const breaches = budgetBreaches(
      { action: "build", sizeBytes: 120 * MIB, durationSeconds: 90, cacheHitRatio: 0.5 },
      { sizeMiB: 100, buildSeconds: 60, cacheHitRatio: 0.8 },
    );
    expect(breaches.map((b) => b.budget)).toEqual(["sizeMiB", "buildSeconds", "cacheHitRatio"]);
    const pulled = budgetBreaches({ action: "pull", sizeBytes: 10 * MIB }, { sizeMiB: 100, buildSeconds: 1, cacheHitRatio: 1 });
    expect(pulled).toEqual([]);
  });

  it("does not hold a first build with an empty cache to the cache-hit budget", () => {
    const first = budgetBreaches(
      { action: "build", sizeBytes: MIB, durationSeconds: 5, cacheHitRatio: 0, cacheExisted: false },
      { cacheHitRatio: 0.7 },
    );
    expect(first).toEqual([]);
    const rebuild = budgetBreaches(
      { action: "build", sizeBytes: MIB, durationSeconds: 5, cacheHitRatio: 0, cacheExisted: true },
      { cacheHitRatio: 0.7 },
    );
    expect(rebuild.map((b) => b.message)).toEqual(["cache-hit ratio 0.00 < budget 0.7"]);
  });

  it("breaches minReduction when the image is not enough smaller than its baseline", () => {
    const facts = { action: "reuse" as const, sizeBytes: 60 * MIB };
    const [breach] = budgetBreaches(facts, { minReduction: 0.55 }, { kind: "image", ref: "legacy/app:old", sizeBytes: 100 * MIB });
    expect(breach).toMatchObject({ budget: "minReduction", limit: 0.55, actual: expect.closeTo(0.4, 10) });
    expect(breach?.message).toBe("size reduction 40.0 % < budget 55 % (60.0 MiB against baseline legacy/app:old, 100.0 MiB)");
    expect(budgetBreaches(facts, { minReduction: 0.3 }, { kind: "sizeMiB", sizeBytes: 100 * MIB })).toEqual([]);
  });

  it("leaves minReduction unchecked when the baseline has no size", () => {
    expect(budgetBreaches({ action: "build", sizeBytes: 60 * MIB }, { minReduction: 0.55 }, { kind: "image", ref: "gone:1" })).toEqual([]);
    expect(budgetBreaches({ action: "build", sizeBytes: 60 * MIB }, { minReduction: 0.55 }, { kind: "previous" })).toEqual([]);
  });
});
