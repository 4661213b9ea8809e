// Build facts and budgets: bytes shared with the parent, and which budget an image breaches.
import type { Budgets } from "../../desired-state/budgets-schema.ts";
import { reductionRatio } from "../../desired-state/image-baseline.ts";
import type { ReductionBaseline } from "../../desired-state/image-baseline.ts";
import type { BuildFacts, ExceededBudget } from "../../status/resource-status.ts";

export type LayeredImage = { sizeBytes: number; layers: readonly string[] };

/** Bytes of the parent's layers the image reuses: the parent's size when its layers are a prefix. */
export function sharedBytesWithParent(image: LayeredImage, parent: LayeredImage | undefined): number | undefined {
  if (!parent) return undefined;
  if (parent.layers.length > image.layers.length) return 0;
  const prefix = parent.layers.every((layer, i) => image.layers[i] === layer);
  return prefix ? Math.min(parent.sizeBytes, image.sizeBytes) : 0;
}

export type BudgetBreach = {
  budget: ExceededBudget["budget"];
  limit: number;
  actual: number;
  message: string;
};

const MIB = 1024 * 1024;

/**
 * Budgets apply to what was measured: size always, build time only for a build, cache hits only
 * for a build that had a cache to hit (a first build with an empty cache is not a cache miss),
 * the size reduction when the baseline has a size.
 */
export function budgetBreaches(
  facts: Pick<BuildFacts, "action" | "sizeBytes" | "durationSeconds" | "cacheHitRatio" | "cacheExisted">,
  budgets: Budgets,
  baseline?: ReductionBaseline,
): BudgetBreach[] {
  const out: BudgetBreach[] = [];
  const sizeMiB = facts.sizeBytes / MIB;
  if (budgets.sizeMiB !== undefined && sizeMiB > budgets.sizeMiB) {
    out.push({
      budget: "sizeMiB",
      limit: budgets.sizeMiB,
      actual: sizeMiB,
      message: `size ${sizeMiB.toFixed(1)} MiB > budget ${budgets.sizeMiB} MiB`,
    });
  }
  if (
    facts.action === "build" &&
    budgets.buildSeconds !== undefined &&
    facts.durationSeconds !== undefined &&
    facts.durationSeconds > budgets.buildSeconds
  ) {
    out.push({
      budget: "buildSeconds",
      limit: budgets.buildSeconds,
      actual: facts.durationSeconds,
      message: `build took ${facts.durationSeconds.toFixed(1)} s > budget ${budgets.buildSeconds} s`,
    });
  }
  if (
    facts.action === "build" &&
    facts.cacheExisted !== false &&
    budgets.cacheHitRatio !== undefined &&
    facts.cacheHitRatio !== undefined &&
    facts.cacheHitRatio < budgets.cacheHitRatio
  ) {
    out.push({
      budget: "cacheHitRatio",
      limit: budgets.cacheHitRatio,
      actual: facts.cacheHitRatio,
      message: `cache-hit ratio ${facts.cacheHitRatio.toFixed(2)} < budget ${budgets.cacheHitRatio}`,
    });
  }
  const reduction = baseline ? reductionRatio(facts.sizeBytes, baseline) : undefined;
  if (budgets.minReduction !== undefined && baseline && reduction !== undefined && reduction < budgets.minReduction) {
    const against =
      baseline.kind === "image" ? `baseline ${baseline.ref}` : baseline.kind === "sizeMiB" ? "the declared baseline" : "the previous image";
    out.push({
      budget: "minReduction",
      limit: budgets.minReduction,
      actual: reduction,
      message:
        `size reduction ${(reduction * 100).toFixed(1)} % < budget ${(budgets.minReduction * 100).toFixed(0)} % ` +
        `(${(facts.sizeBytes / MIB).toFixed(1)} MiB against ${against}, ${((baseline.sizeBytes ?? 0) / MIB).toFixed(1)} MiB)`,
    });
  }
  return out;
}

/** Why the rollouts of an image wait: a budget with `enforce: true` is breached (the images reconciler's hold, `berth plan`'s line). */
export function enforcedBudgetHold(name: string, breaches: readonly string[]): string {
  return `image ${name} breaches an enforced budget (${breaches.join("; ") || "see its BudgetExceeded condition"})`;
}
