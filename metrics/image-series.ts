// Image series from the status store's build facts: sizes, reduction, build time, cache hits, budgets.
import { reductionBaseline, reductionRatio } from "../desired-state/image-baseline.ts";
import type { EngineImage, ReductionBaseline } from "../desired-state/image-baseline.ts";
import { parseKeyOf } from "../status/resource-key.ts";
import type { ExceededBudget, ImageStatus, ResourceStatus } from "../status/resource-status.ts";
import type { DesiredImageView } from "./desired-view.ts";
import type { BudgetName } from "./metric-families.ts";

export type ImageSeries = {
  image: string;
  sizeBytes: number;
  sharedBytes?: number;
  /** What the reduction is measured against (a declared baseline, else the previous image). */
  baseline: ReductionBaseline;
  reductionRatio?: number;
  buildDurationSeconds?: number;
  cacheHitRatio?: number;
  budgets: { budget: BudgetName; limit: number; exceeded: boolean }[];
  /** Findings by severity of the vulnerability gate's last scan of this image. */
  vulnerabilities?: Record<string, number>;
};

const MIB = 1024 * 1024;

/** An image record's image name, when the record belongs to `machine`. */
export function imageNameOf(key: string, machine: string): string | undefined {
  const image = parseKeyOf("image", key);
  return image?.machine === machine ? image.name : undefined;
}

function stripAlgo(id: string): string {
  return id.startsWith("sha256:") ? id.slice(7) : id;
}

const BUDGET_NAME = {
  sizeMiB: "size",
  buildSeconds: "build_time",
  cacheHitRatio: "cache_hit_ratio",
  minReduction: "min_reduction",
} as const satisfies Record<ExceededBudget["budget"], BudgetName>;

/** The budgets an image record says its image breaches (limits in the metric's units: bytes, seconds, ratios). */
function recordedBreaches(record: ImageStatus): ImageSeries["budgets"] {
  return (record.budgets ?? []).map(({ budget, limit }) => ({
    budget: BUDGET_NAME[budget],
    limit: budget === "sizeMiB" ? limit * MIB : limit,
    exceeded: true,
  }));
}

/**
 * One row per built/pulled image of this machine. Images left out of the desired state (when
 * it is known) or missing from the engine (when the engine answered) have no series.
 */
export function imageSeries(
  records: readonly ResourceStatus[],
  machine: string,
  options: {
    desired?: ReadonlyMap<string, DesiredImageView>;
    presentImageIds?: ReadonlySet<string>;
    engineImages?: readonly EngineImage[];
  } = {},
): ImageSeries[] {
  const present = options.presentImageIds ? new Set([...options.presentImageIds].map(stripAlgo)) : undefined;
  const out: ImageSeries[] = [];
  for (const record of records) {
    if (record.kind !== "image") continue;
    const name = imageNameOf(record.key, machine);
    const build = record.build;
    if (name === undefined || build === undefined) continue;
    const desired = options.desired?.get(name);
    if (options.desired && !desired) continue;
    if (present && !present.has(stripAlgo(build.imageId))) continue;
    const baseline = reductionBaseline(desired?.baseline, build.previousSizeBytes, options.engineImages ?? []);
    const reduction = reductionRatio(build.sizeBytes, baseline);
    const budgets: ImageSeries["budgets"] = [];
    if (desired) {
      const { sizeMiB, buildSeconds, cacheHitRatio, minReduction } = desired.budgets;
      if (sizeMiB !== undefined) budgets.push({ budget: "size", limit: sizeMiB * MIB, exceeded: build.sizeBytes > sizeMiB * MIB });
      if (buildSeconds !== undefined)
        budgets.push({
          budget: "build_time",
          limit: buildSeconds,
          exceeded: build.durationSeconds !== undefined && build.durationSeconds > buildSeconds,
        });
      if (cacheHitRatio !== undefined)
        budgets.push({
          budget: "cache_hit_ratio",
          limit: cacheHitRatio,
          exceeded: build.cacheHitRatio !== undefined && build.cacheHitRatio < cacheHitRatio,
        });
      if (minReduction !== undefined)
        budgets.push({ budget: "min_reduction", limit: minReduction, exceeded: reduction !== undefined && reduction < minReduction });
    } else {
      budgets.push(...recordedBreaches(record));
    }
    out.push({
      image: name,
      sizeBytes: build.sizeBytes,
      ...(build.sharedBytes !== undefined ? { sharedBytes: build.sharedBytes } : {}),
      baseline,
      ...(reduction !== undefined ? { reductionRatio: reduction } : {}),
      ...(build.action === "build" && build.durationSeconds !== undefined ? { buildDurationSeconds: build.durationSeconds } : {}),
      ...(build.action === "build" && build.cacheHitRatio !== undefined ? { cacheHitRatio: build.cacheHitRatio } : {}),
      budgets,
      ...(record.vulnerabilities?.counts && record.vulnerabilities.imageId === build.imageId
        ? { vulnerabilities: record.vulnerabilities.counts }
        : {}),
    });
  }
  return out;
}
