// The migration table of `berth report`: per image size, baseline, reduction, shared bytes, build
// time, cache hits and budgets, from the same image series the metrics export.
import type { ReductionBaseline } from "../desired-state/image-baseline.ts";
import type { ImageSeries } from "./image-series.ts";
import type { BudgetName } from "./metric-families.ts";

export type MigrationRow = {
  image: string;
  sizeBytes: number;
  baseline: ReductionBaseline;
  reductionRatio?: number;
  sharedBytes?: number;
  buildDurationSeconds?: number;
  cacheHitRatio?: number;
  /** Each declared budget by its image.yaml name, with its limit and whether it is met. */
  budgets: { budget: string; limit: number; met: boolean }[];
  budgetsMet: boolean;
};

export type MigrationTable = { machine: string; revision?: string; images: MigrationRow[] };

/** The budget's name in image.yaml / x-berth. */
const FIELD: Record<BudgetName, string> = {
  size: "sizeMiB",
  build_time: "buildSeconds",
  cache_hit_ratio: "cacheHitRatio",
  min_reduction: "minReduction",
};
const MIB = 1024 * 1024;

export function migrationTable(series: readonly ImageSeries[], machine: string, revision?: string): MigrationTable {
  const images = [...series]
    .sort((a, b) => a.image.localeCompare(b.image))
    .map((row): MigrationRow => {
      const budgets = row.budgets.map((b) => ({
        budget: FIELD[b.budget],
        limit: b.budget === "size" ? b.limit / MIB : b.limit,
        met: !b.exceeded,
      }));
      return {
        image: row.image,
        sizeBytes: row.sizeBytes,
        baseline: row.baseline,
        ...(row.reductionRatio !== undefined ? { reductionRatio: row.reductionRatio } : {}),
        ...(row.sharedBytes !== undefined ? { sharedBytes: row.sharedBytes } : {}),
        ...(row.buildDurationSeconds !== undefined ? { buildDurationSeconds: row.buildDurationSeconds } : {}),
        ...(row.cacheHitRatio !== undefined ? { cacheHitRatio: row.cacheHitRatio } : {}),
        budgets,
        budgetsMet: budgets.every((b) => b.met),
      };
    });
  return { machine, ...(revision ? { revision } : {}), images };
}

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;
const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`;

function baselineCell(baseline: ReductionBaseline): string {
  const size = baseline.sizeBytes !== undefined ? mib(baseline.sizeBytes) : undefined;
  if (baseline.kind === "image") return `${size ?? "not in the engine"} (${baseline.ref})`;
  if (baseline.kind === "sizeMiB") return `${size ?? ""} (declared)`;
  return size ? `${size} (previous image)` : "–";
}

function budgetsCell(row: MigrationRow): string {
  if (row.budgets.length === 0) return "–";
  const missed = row.budgets.filter((b) => !b.met).map((b) => `${b.budget} ${b.limit}`);
  return missed.length === 0 ? `met (${row.budgets.map((b) => b.budget).join(", ")})` : `missed: ${missed.join(", ")}`;
}

/** The table as Markdown, one line per image. */
export function renderMigrationTable(table: MigrationTable): string {
  const lines = [
    `# Migration report: ${table.machine}${table.revision ? ` @ ${table.revision}` : ""}`,
    "",
    "| image | size | baseline | reduction | shared with parent | build time | cache hits | budgets |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of table.images) {
    const cells = [
      row.image,
      mib(row.sizeBytes),
      baselineCell(row.baseline),
      row.reductionRatio !== undefined ? pct(row.reductionRatio) : "–",
      row.sharedBytes !== undefined ? mib(row.sharedBytes) : "–",
      row.buildDurationSeconds !== undefined ? `${row.buildDurationSeconds.toFixed(1)} s` : "–",
      row.cacheHitRatio !== undefined ? pct(row.cacheHitRatio) : "–",
      budgetsCell(row),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (table.images.length === 0) lines.push("", "No built or pulled image of this machine is recorded in the state dir.");
  return `${lines.join("\n")}\n`;
}
