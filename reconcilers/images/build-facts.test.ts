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

  it("expresses the size reduction against the previous image as a fraction", () => {
    expect(sizeReduction({ sizeBytes: 40, previousSizeBytes: 100 })).toBeCloseTo(0.6);
    expect(sizeReduction({ sizeBytes: 40 })).toBeUndefined();
  });
});
