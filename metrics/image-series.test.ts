// Image series from build facts: reduction vs previous size, budgets, and which images show.
import { describe, expect, it } from "vitest";
import { imageRecord, serviceRecord } from "./fixtures/status-records.ts";
import { imageSeries } from "./image-series.ts";

const MIB = 1024 * 1024;

describe("imageSeries", () => {
  it("reports size, shared bytes, reduction vs the previous image, build time and cache hits", () => {
    const records = [
      imageRecord("gpu-1", "api", {
        imageId: "sha256:1",
        sizeBytes: 80 * MIB,
        sharedBytes: 60 * MIB,
        previousSizeBytes: 100 * MIB,
        durationSeconds: 42,
        cacheHitRatio: 0.75,
      }),
      serviceRecord("web", "api", true),
    ];

    const rows = imageSeries(records, "gpu-1");

    expect(rows).toEqual([
      {
        image: "api",
        sizeBytes: 80 * MIB,
        sharedBytes: 60 * MIB,
        baseline: { kind: "previous", sizeBytes: 100 * MIB },
        reductionRatio: expect.closeTo(0.2, 10),
        buildDurationSeconds: 42,
        cacheHitRatio: 0.75,
        budgets: [],
      },
    ]);
  });

  it("vuln: carries the vulnerability gate's counts of the current image, not those of an earlier image", () => {
    const counts = { critical: 1, high: 2, medium: 0, low: 0, negligible: 0, unknown: 0 };
    const current = {
      ...imageRecord("gpu-1", "api", { imageId: "sha256:1", sizeBytes: 1 }),
      vulnerabilities: { imageId: "sha256:1", scanner: "trivy", counts },
    };
    const stale = {
      ...imageRecord("gpu-1", "web", { imageId: "sha256:2", sizeBytes: 1 }),
      vulnerabilities: { imageId: "sha256:0", scanner: "trivy", counts },
    };

    const rows = imageSeries([current, stale], "gpu-1");

    expect(rows.map((r) => [r.image, r.vulnerabilities])).toEqual([
      ["api", counts],
      ["web", undefined],
    ]);
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

  it("falls back to the budgets the image record says are breached when the desired budgets are unknown", () => {
    // As the images reconciler writes it: BudgetExceeded=True/BudgetWarning (or BudgetEnforced) and the breached budgets.
    const records = [
      imageRecord("m", "fat", { imageId: "sha256:f", sizeBytes: 300 * MIB, durationSeconds: 90 }, [
        { budget: "sizeMiB", limit: 200 },
        { budget: "buildSeconds", limit: 60 },
      ]),
    ];

    const [row] = imageSeries(records, "m");

    expect(row?.budgets).toEqual([
      { budget: "size", limit: 200 * MIB, exceeded: true },
      { budget: "build_time", limit: 60, exceeded: true },
    ]);
  });

  it("leaves build time and cache hits out for pulled images, and reduction out without a baseline", () => {
    const records = [
      imageRecord("m", "pulled", { imageId: "sha256:p", sizeBytes: 5, action: "pull", durationSeconds: 3, cacheHitRatio: 0 }),
    ];

    const [row] = imageSeries(records, "m");

    expect(row).toEqual({ image: "pulled", sizeBytes: 5, baseline: { kind: "previous" }, budgets: [] });
  });

  it("measures the reduction against a declared baseline image read from the engine, not the previous image", () => {
    const records = [imageRecord("m", "app", { imageId: "sha256:a", sizeBytes: 30 * MIB, previousSizeBytes: 32 * MIB })];
    const desired = new Map([["app", { name: "app", budgets: { minReduction: 0.55 }, baseline: { image: "legacy/app:2023" } }]]);
    const engineImages = [{ repoTags: ["legacy/app:2023"], sizeBytes: 100 * MIB }];

    const [row] = imageSeries(records, "m", { desired, engineImages });

    expect(row?.baseline).toEqual({ kind: "image", ref: "legacy/app:2023", sizeBytes: 100 * MIB });
    expect(row?.reductionRatio).toBeCloseTo(0.7);
    expect(row?.budgets).toEqual([{ budget: "min_reduction", limit: 0.55, exceeded: false }]);
  });

  it("flags minReduction against a declared size, and leaves the reduction out when the baseline image is gone", () => {
    const records = [
      imageRecord("m", "small", { imageId: "sha256:s", sizeBytes: 60 * MIB }),
      imageRecord("m", "lost", { imageId: "sha256:l", sizeBytes: 60 * MIB, previousSizeBytes: 90 * MIB }),
    ];
    const desired = new Map([
      ["small", { name: "small", budgets: { minReduction: 0.55 }, baseline: { sizeMiB: 100 } }],
      ["lost", { name: "lost", budgets: { minReduction: 0.55 }, baseline: { image: "gone:1" } }],
    ]);

    const [small, lost] = imageSeries(records, "m", { desired, engineImages: [] });

    expect(small?.reductionRatio).toBeCloseTo(0.4);
    expect(small?.budgets).toEqual([{ budget: "min_reduction", limit: 0.55, exceeded: true }]);
    expect(lost?.reductionRatio).toBeUndefined();
    expect(lost?.budgets).toEqual([{ budget: "min_reduction", limit: 0.55, exceeded: false }]);
  });
});
