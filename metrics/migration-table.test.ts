// The migration table of `berth report`, built from image series as the metrics export them.
import { describe, expect, it } from "vitest";
import type { ImageSeries } from "./image-series.ts";
import { migrationTable, renderMigrationTable } from "./migration-table.ts";

const MIB = 1024 * 1024;

const series: ImageSeries[] = [
  {
    image: "svc-api",
    sizeBytes: 120 * MIB,
    sharedBytes: 80 * MIB,
    baseline: { kind: "image", ref: "legacy/api:2023", sizeBytes: 400 * MIB },
    reductionRatio: 0.7,
    buildDurationSeconds: 12.34,
    cacheHitRatio: 0.75,
    budgets: [
      { budget: "size", limit: 200 * MIB, exceeded: false },
      { budget: "min_reduction", limit: 0.55, exceeded: false },
    ],
  },
  {
    image: "base",
    sizeBytes: 80 * MIB,
    baseline: { kind: "sizeMiB", sizeBytes: 100 * MIB },
    reductionRatio: 0.2,
    budgets: [{ budget: "min_reduction", limit: 0.55, exceeded: true }],
  },
  { image: "pulled", sizeBytes: 5 * MIB, baseline: { kind: "previous" }, budgets: [] },
];

describe("migration table", () => {
  it("lists each image with its baseline, reduction and budgets by their image.yaml names", () => {
    const table = migrationTable(series, "gpu-1", "abc1234");

    expect(table.machine).toBe("gpu-1");
    expect(table.images.map((r) => r.image)).toEqual(["base", "pulled", "svc-api"]);
    expect(table.images[2]).toEqual({
      image: "svc-api",
      sizeBytes: 120 * MIB,
      baseline: { kind: "image", ref: "legacy/api:2023", sizeBytes: 400 * MIB },
      reductionRatio: 0.7,
      sharedBytes: 80 * MIB,
      buildDurationSeconds: 12.34,
      cacheHitRatio: 0.75,
      budgets: [
        { budget: "sizeMiB", limit: 200, met: true },
        { budget: "minReduction", limit: 0.55, met: true },
      ],
      budgetsMet: true,
    });
    expect(table.images[0]?.budgetsMet).toBe(false);
    expect(table.images[1]?.budgetsMet).toBe(true);
  });

  it("renders one Markdown line per image with units and the missed budget", () => {
    const text = renderMigrationTable(migrationTable(series, "gpu-1", "abc1234"));

    expect(text).toContain("# Migration report: gpu-1 @ abc1234");
    expect(text).toContain(
      "| svc-api | 120.0 MiB | 400.0 MiB (legacy/api:2023) | 70.0 % | 80.0 MiB | 12.3 s | 75.0 % | met (sizeMiB, minReduction) |",
    );
    expect(text).toContain("| base | 80.0 MiB | 100.0 MiB (declared) | 20.0 % | – | – | – | missed: minReduction 0.55 |");
    expect(text).toContain("| pulled | 5.0 MiB | – | – | – | – | – | – |");
  });

  it("says so when a baseline image is not in the engine, and when nothing is recorded", () => {
    const lost = renderMigrationTable(
      migrationTable([{ image: "x", sizeBytes: MIB, baseline: { kind: "image", ref: "gone:1" }, budgets: [] }], "m"),
    );
    expect(lost).toContain("| x | 1.0 MiB | not in the engine (gone:1) | – |");
    expect(renderMigrationTable(migrationTable([], "m"))).toContain("No built or pulled image of this machine is recorded");
  });
});
