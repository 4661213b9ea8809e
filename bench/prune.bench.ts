// Bench: prune planning over 500 images (the engine look and the deletions excluded); target ≤ 100 ms.
import { DEFAULT_PRUNE } from "../desired-state/desired-state.ts";
import { planPrune } from "../reconcilers/prune/plan-prune.ts";
import { simulateWorld, WORLD_PREFIX } from "../reconcilers/prune/prune-world.ts";
import type { WorldOp } from "../reconcilers/prune/prune-world.ts";
import { medianMs } from "./bench-row.ts";
import type { BenchRow } from "./bench-row.ts";

const TARGET_MS = 100;
const IMAGES = 500;

/** A deterministic host history with at least `images` images: 40 services built, swapped and rolled back for months. */
function history(images: number): WorldOp[] {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const ops: WorldOp[] = [];
  let created = 0;
  while (created < images) {
    const service = Math.floor(random() * 40);
    const roll = random();
    if (roll < 0.55) {
      ops.push({ kind: "build", service, moveLatest: true }, { kind: "swap", service });
      created += 1;
    } else if (roll < 0.6) ops.push({ kind: "rollback", service });
    else if (roll < 0.65) ops.push({ kind: "stop-container", service });
    else if (roll < 0.75) {
      ops.push({ kind: "foreign", repo: Math.floor(random() * 10), used: random() < 0.3 });
      created += 1;
    } else if (roll < 0.8) {
      ops.push({ kind: "dangling", managed: random() < 0.5 });
      created += 1;
    } else ops.push({ kind: "advance", hours: Math.ceil(random() * 12) });
  }
  return ops;
}

async function row(images: number, targetMs: number): Promise<BenchRow> {
  const world = simulateWorld(history(images), { services: 40, historyLength: 3 });
  const input = {
    spec: { ...DEFAULT_PRUNE, foreign: true },
    ...world,
    managedPrefix: WORLD_PREFIX,
    scope: { dangling: true, buildCache: false },
  };
  const plan = planPrune(input);
  const ms = await medianMs(31, () => planPrune(input));
  return {
    name: `prune planning over ${world.images.length} images`,
    value: Number(ms.toFixed(2)),
    unit: "ms",
    target: `≤ ${targetMs} ms`,
    pass: ms <= targetMs,
    note:
      `median of 31; ${world.containers.length} containers, ${world.statuses.length} status records; ` +
      `${plan.candidates.length} candidates, ${plan.kept.length} kept; engine look and deletions excluded`,
  };
}

export async function run(): Promise<BenchRow[]> {
  // The row, and a 10x host to show how it scales (target scaled linearly).
  return [await row(IMAGES, TARGET_MS), await row(IMAGES * 10, TARGET_MS * 10)];
}
