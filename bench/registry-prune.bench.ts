// Bench: registry retention planning over 10,000 tags (the registry calls excluded); target ≤ 100 ms.
import { planRegistryPrune } from "../reconcilers/prune/plan-registry-prune.ts";
import type { RegistryNeed, RegistryTagFact } from "../reconcilers/prune/plan-registry-prune.ts";
import { medianMs } from "./bench-row.ts";
import type { BenchRow } from "./bench-row.ts";

const TARGET_MS = 100;
const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;

/** 50 images × 2 machines × 50 builds, each build a content and a human tag on one manifest; every machine's last build needed. */
function registry(): { tags: RegistryTagFact[]; needed: RegistryNeed[] } {
  const tags: RegistryTagFact[] = [];
  const needed: RegistryNeed[] = [];
  for (let image = 0; image < 50; image += 1) {
    const repository = `ghcr.io/org/image-${image}`;
    for (const machine of ["mainpc", "pc2"]) {
      for (let build = 0; build < 50; build += 1) {
        const n = (image * 2 + (machine === "pc2" ? 1 : 0)) * 100 + build;
        const digest = `sha256:${n.toString(16).padStart(64, "0")}`;
        const created = NOW - (50 - build) * DAY;
        const day = new Date(created).toISOString().slice(0, 10).replace(/-/g, "");
        const content = `${n.toString(16).padStart(12, "0")}-${machine}`;
        tags.push(
          { repository, tag: content, digest, created },
          { repository, tag: `${day}-${n.toString(16).padStart(7, "0")}-${machine}`, digest, created },
        );
        if (build === 49) needed.push({ ref: `${repository}:${content}`, rule: "current" });
        if (build === 45) needed.push({ ref: `${repository}@${digest}`, rule: "rollback" });
      }
    }
  }
  return { tags, needed };
}

export async function run(): Promise<BenchRow[]> {
  const { tags, needed } = registry();
  const input = { tags, needed, keep: 3, minAgeMs: DAY, now: NOW };
  const plan = planRegistryPrune(input);
  const ms = await medianMs(31, () => planRegistryPrune(input));
  return [
    {
      name: `registry retention planning over ${tags.length} tags`,
      value: Number(ms.toFixed(2)),
      unit: "ms",
      target: `≤ ${TARGET_MS} ms`,
      pass: ms <= TARGET_MS,
      note:
        `median of 31; ${needed.length} needed refs; ${plan.deletions.length} manifests to delete, ` +
        `${plan.kept.length} kept; registry calls excluded`,
    },
  ];
}
