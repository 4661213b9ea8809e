import { describe, expect, it } from "vitest";
import { budgetBreaches, sharedBytesWithParent, sizeReduction } from "./build-facts.ts";

const MIB = 1024 * 1024;

describe("build facts", () => {
  it("counts the parent's bytes as shared when its layers are a prefix of the image's", () => {
    expect(sharedBytesWithParent({ sizeBytes: 30 * MIB, layers: ["a", "b", "c"] }, { sizeBytes: 20 * MIB, layers: ["a", "b"] })).toBe(20 * MIB);
    expect(sharedBytesWithParent({ sizeBytes: 30 * MIB, layers: ["a", "x"] }, { sizeBytes: 20 * MIB, layers: ["a", "b"] })).toBe(0);
    expect(sharedBytesWithParent({ sizeBytes: 30 * MIB, layers: ["a"] }, undefined)).toBeUndefined();
  });

  it("reports each breached budget and only measured ones", () => {
    const breaches = budgetBreaches({ action: "build", sizeBytes: 120 * MIB, durationSeconds: 90, cacheHitRatio: 0.5 }, { sizeMiB: 100, buildSeconds: 60, cacheHitRatio: 0.8 });
    expect(breaches.map((b) => b.budget)).toEqual(["sizeMiB", "buildSeconds", "cacheHitRatio"]);
    const pulled = budgetBreaches({ action: "pull", sizeBytes: 10 * MIB }, { sizeMiB: 100, buildSeconds: 1, cacheHitRatio: 1 });
    expect(pulled).toEqual([]);
  });

  it("does not hold a first build with an empty cache to the cache-hit budget", () => {
    const first = budgetBreaches({ action: "build", sizeBytes: MIB, durationSeconds: 5, cacheHitRatio: 0, cacheExisted: false }, { cacheHitRatio: 0.7 });
    expect(first).toEqual([]);
    const rebuild = budgetBreaches({ action: "build", sizeBytes: MIB, durationSeconds: 5, cacheHitRatio: 0, cacheExisted: true }, { cacheHitRatio: 0.7 });
    expect(rebuild.map((b) => b.message)).toEqual(["cache-hit ratio 0.00 < budget 0.7"]);
  });

  it("expresses the size reduction against the previous image as a fraction", () => {
    expect(sizeReduction({ sizeBytes: 40, previousSizeBytes: 100 })).toBeCloseTo(0.6);
    expect(sizeReduction({ sizeBytes: 40 })).toBeUndefined();
  });
});
