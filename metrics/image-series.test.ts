// Image series from build facts: reduction vs previous size, budgets, and which images show.
import { describe, expect, it } from "vitest";
import { imageRecord, serviceRecord } from "./fixtures/status-records.ts";
import { imageSeries } from "./image-series.ts";

const MIB = 1024 * 1024;

describe("imageSeries", () => {
  it("reports size, shared bytes, reduction vs the previous image, build time and cache hits", () => {
    const records = [
      imageRecord("gpu-1", "api", { imageId: "sha256:1", sizeBytes: 80 * MIB, sharedBytes: 60 * MIB, previousSizeBytes: 100 * MIB, durationSeconds: 42, cacheHitRatio: 0.75 }),
      serviceRecord("web", "api", true),
    ];

    const rows = imageSeries(records, "gpu-1");

    expect(rows).toEqual([{ image: "api", sizeBytes: 80 * MIB, sharedBytes: 60 * MIB, reductionRatio: expect.closeTo(0.2, 10), buildDurationSeconds: 42, cacheHitRatio: 0.75, budgets: [] }]);
  });

  it("skips other machines, images gone from the engine, and images left out of the desired state", () => {
    const records = [
      imageRecord("gpu-1", "kept", { imageId: "sha256:k", sizeBytes: 1 }),
      imageRecord("gpu-1", "deleted", { imageId: "sha256:d", sizeBytes: 1 }),
      imageRecord("gpu-1", "undeclared", { imageId: "sha256:u", sizeBytes: 1 }),
      imageRecord("edge-1", "kept", { imageId: "sha256:k", sizeBytes: 1 }),
    ];
    const desired = new Map([
      ["kept", { name: "kept", budgets: {} }],
      ["deleted", { name: "deleted", budgets: {} }],
    ]);

    const rows = imageSeries(records, "gpu-1", { desired, presentImageIds: new Set(["sha256:k", "sha256:u"]) });

    expect(rows.map((r) => r.image)).toEqual(["kept"]);
  });

  it("checks each declared budget against the build facts", () => {
    const records = [imageRecord("m", "fat", { imageId: "sha256:f", sizeBytes: 300 * MIB, durationSeconds: 30, cacheHitRatio: 0.2 })];
    const desired = new Map([["fat", { name: "fat", budgets: { sizeMiB: 200, buildSeconds: 60, cacheHitRatio: 0.5 } }]]);

    const [row] = imageSeries(records, "m", { desired });

    expect(row?.budgets).toEqual([
      { budget: "size", limit: 200 * MIB, exceeded: true },
      { budget: "build_time", limit: 60, exceeded: false },
      { budget: "cache_hit_ratio", limit: 0.5, exceeded: true },
    ]);
  });

  it("falls back to the BudgetExceeded condition when budgets are unknown", () => {
    const records = [imageRecord("m", "fat", { imageId: "sha256:f", sizeBytes: 1 }, "SizeBudgetExceeded")];

    const [row] = imageSeries(records, "m");

    expect(row?.budgets).toEqual([{ budget: "size", limit: Number.NaN, exceeded: true }]);
  });

  it("leaves build time and cache hits out for pulled images, and reduction out without a baseline", () => {
    const records = [imageRecord("m", "pulled", { imageId: "sha256:p", sizeBytes: 5, action: "pull", durationSeconds: 3, cacheHitRatio: 0 })];

    const [row] = imageSeries(records, "m");

    expect(row).toEqual({ image: "pulled", sizeBytes: 5, budgets: [] });
  });
});
