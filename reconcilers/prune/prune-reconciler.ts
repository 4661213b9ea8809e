// Carries a prune plan out under the host lock: one engine look, plan, remove one by one without force, report.
import { forMachine, DEFAULT_PRUNE } from "../../desired-state/desired-state.ts";
import type { DesiredState, PruneSpec } from "../../desired-state/desired-state.ts";
import type { Clock } from "../../platform/clock.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { Logger } from "../../platform/logger.ts";
import { removeCondition, setCondition } from "../../status/conditions.ts";
import { PruneReason } from "../../status/reasons.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { KeyOf } from "../../status/resource-key.ts";
import type { ReconcileEvents } from "../../status/reconcile-events.ts";
import type { SharedHostLock } from "../../status/shared-host-lock.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { BuildCache } from "./build-cache.ts";
import { planPrune, summarizePlan } from "./plan-prune.ts";
import type { BuildCachePlan, KeepRule, KeptImage, PruneCandidate, PrunePlan, PruneScope, RemoveRule } from "./plan-prune.ts";

export type PruneDeps = {
  engine: Pick<DockerEngine, "observe" | "removeImage" | "inspectImage">;
  store: StatusStore;
  /** Held exclusively: no build or swap of any process runs beside a prune. */
  lock: SharedHostLock;
  logger: Logger;
  events: ReconcileEvents;
  clock: Clock;
  /** Absent: the build cache is never measured nor trimmed. */
  buildCache?: BuildCache;
};

export type PruneRequest = {
  state: DesiredState;
  machine: string;
  dryRun: boolean;
  /** Default: every image of the engine, dangling images and the build cache. */
  scope?: Partial<PruneScope>;
  /** How long to wait for a build or swap holding the host lock (default: as long as it takes). */
  lockWaitMs?: number;
  signal?: AbortSignal;
};

export type RemovalOutcome = "removed" | "untagged" | "in-use" | "missing" | "failed";

export type ImageRemoval = {
  imageId: string;
  tags: string[];
  rule: RemoveRule;
  outcome: RemovalOutcome;
  /** The image's size when the engine deleted it; 0 when only tags went (a parent of kept images). */
  reclaimedBytes: number;
  error?: string;
};

export type PruneReport = {
  machine: string;
  dryRun: boolean;
  startedAt: number;
  /** Time to plan, from the engine look to the plan (deletions excluded). */
  planMs: number;
  durationMs: number;
  spec: PruneSpec;
  candidates: PruneCandidate[];
  kept: KeptImage[];
  removals: ImageRemoval[];
  removedImages: number;
  reclaimedBytes: number;
  failed: number;
  keptByRule: Record<KeepRule, number>;
  candidatesByRule: Record<RemoveRule, number>;
  candidateBytes: number;
  buildCache: BuildCachePlan & { reclaimedBytes?: number; error?: string };
  outOfScope: number;
  firstSeenRecorded: number;
};

/** The status key holding prune's own "first seen" records (image id → unix ms) and its last result. */
export function pruneStatusKey(machine: string): KeyOf<"prune"> {
  return { kind: "prune", machine };
}

/** The machine's prune settings: its own override, else berth.yaml's, else the defaults (the loader merges them). */
export function effectivePruneSpec(state: DesiredState, machine: string): PruneSpec {
  return state.machines[machine]?.prune ?? DEFAULT_PRUNE;
}

/** Repository prefix of everything berth builds or pulls (see reconcilers/images/image-tags.ts). */
export function managedPrefix(state: DesiredState): string {
  return `${(state.registry ?? "berth").replace(/\/+$/, "")}/`;
}

export async function runPrune(deps: PruneDeps, request: PruneRequest): Promise<PruneReport> {
  return deps.lock.exclusive(request.dryRun ? "prune --dry-run" : "prune", () => pruneHoldingLock(deps, request), {
    ...(request.lockWaitMs !== undefined ? { waitMs: request.lockWaitMs } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
    onWait: (holder) => deps.logger.info({ holder }, "prune waiting for the host lock"),
  });
}

async function pruneHoldingLock(deps: PruneDeps, request: PruneRequest): Promise<PruneReport> {
  const { state, machine } = request;
  const startedAt = deps.clock.now();
  const t0 = performance.now();
  const spec = effectivePruneSpec(state, machine);
  const scope: PruneScope = { dangling: true, buildCache: true, ...request.scope };
  const measureCache = scope.buildCache && spec.buildCacheMaxGiB !== undefined && deps.buildCache !== undefined;
  const [observed, buildCacheBytes] = await Promise.all([
    deps.engine.observe(request.signal),
    measureCache
      ? deps.buildCache
          ?.usageBytes(request.signal)
          .catch((error: unknown) => (deps.logger.warn({ err: error }, "prune could not measure the build cache"), undefined))
      : undefined,
  ]);
  const t1 = performance.now();
  const plan = planPrune({
    spec,
    containers: observed.containers,
    images: observed.images,
    statuses: deps.store.all(),
    desiredRefs: forMachine(state, machine).stacks.flatMap((stack) =>
      stack.services.flatMap((service) => (service.image ? [service.image] : [])),
    ),
    managedPrefix: managedPrefix(state),
    now: observed.takenAt,
    scope,
    ...(buildCacheBytes !== undefined ? { buildCacheBytes } : {}),
  });
  const planMs = performance.now() - t1;

  const removals = request.dryRun ? [] : await executePrunePlan(deps, plan.candidates, request.signal);
  let buildCache: PruneReport["buildCache"] = plan.buildCache;
  if (!request.dryRun && plan.buildCache.action === "prune" && deps.buildCache) {
    try {
      buildCache = { ...plan.buildCache, reclaimedBytes: await deps.buildCache.trim(plan.buildCache.maxBytes, request.signal) };
    } catch (error) {
      buildCache = { ...plan.buildCache, error: errorText(error) };
      deps.logger.warn({ err: error }, "prune could not trim the build cache");
    }
  }
  if (!request.dryRun) {
    const gone = new Set(removals.filter((r) => r.outcome === "removed" || r.outcome === "missing").map((r) => r.imageId));
    await recordFirstSeen(
      deps,
      machine,
      plan,
      observed.images.map((image) => image.id).filter((id) => !gone.has(id)),
    );
  }

  const summary = summarizePlan(plan);
  const removed = removals.filter((r) => r.outcome === "removed");
  const reclaimedBytes = removed.reduce((sum, r) => sum + r.reclaimedBytes, 0) + (buildCache.reclaimedBytes ?? 0);
  const failed = removals.filter((r) => r.outcome === "failed").length + (buildCache.error ? 1 : 0);
  const report: PruneReport = {
    machine,
    dryRun: request.dryRun,
    startedAt,
    planMs,
    durationMs: performance.now() - t0,
    spec,
    candidates: plan.candidates,
    kept: plan.kept,
    removals,
    removedImages: removed.length,
    reclaimedBytes,
    failed,
    keptByRule: summary.kept,
    candidatesByRule: summary.candidates,
    candidateBytes: summary.candidateBytes,
    buildCache,
    outOfScope: plan.outOfScope,
    firstSeenRecorded: request.dryRun ? 0 : plan.firstSeen.length,
  };
  deps.logger.info(
    {
      machine,
      dryRun: request.dryRun,
      candidates: plan.candidates.length,
      removedImages: report.removedImages,
      reclaimedBytes,
      failed,
      kept: summary.kept,
      candidatesByRule: summary.candidates,
      observeMs: Math.round(t1 - t0),
      planMs: Math.round(planMs),
    },
    request.dryRun ? "prune planned (dry run)" : "prune finished",
  );
  if (!request.dryRun) {
    deps.events.pruned(report.removedImages, reclaimedBytes);
    deps.events.reconciled("prune", failed > 0 ? "failure" : report.removedImages > 0 ? "success" : "noop", report.durationMs / 1000);
    await recordResult(deps, machine, report);
  }
  return report;
}

/** Removes candidates one by one, every tag then the image, never forced; one failure does not stop the rest. */
export async function executePrunePlan(
  deps: Pick<PruneDeps, "engine" | "logger">,
  candidates: readonly PruneCandidate[],
  signal?: AbortSignal,
): Promise<ImageRemoval[]> {
  const out: ImageRemoval[] = [];
  for (const candidate of candidates) {
    if (signal?.aborted) break;
    const base = { imageId: candidate.imageId, tags: candidate.tags, rule: candidate.rule };
    let outcome: RemovalOutcome | undefined;
    let error: string | undefined;
    try {
      let removedAny = false;
      for (const ref of candidate.refs) {
        const result = await deps.engine.removeImage(ref);
        if (result === "conflict") {
          outcome = "in-use";
          break;
        }
        if (result === "removed") removedAny = true;
      }
      if (outcome === undefined) {
        const still = await deps.engine.inspectImage(candidate.imageId);
        outcome = still ? "untagged" : removedAny ? "removed" : "missing";
      }
    } catch (caught) {
      outcome = "failed";
      error = errorText(caught);
    }
    const removal: ImageRemoval = {
      ...base,
      outcome,
      reclaimedBytes: outcome === "removed" ? candidate.sizeBytes : 0,
      ...(error ? { error } : {}),
    };
    if (outcome === "failed")
      deps.logger.warn({ imageId: candidate.imageId, tags: candidate.tags, error }, "prune could not remove an image");
    else deps.logger.debug({ imageId: candidate.imageId, tags: candidate.tags, rule: candidate.rule, outcome }, "prune removal");
    out.push(removal);
  }
  return out;
}

async function recordFirstSeen(deps: PruneDeps, machine: string, plan: PrunePlan, presentIds: readonly string[]): Promise<void> {
  const key = pruneStatusKey(machine);
  const previous = deps.store.get(key);
  const present = new Set(presentIds);
  const records: Record<string, number> = {};
  for (const [id, at] of Object.entries(previous?.records ?? {})) if (present.has(id)) records[id] = at;
  for (const seen of plan.firstSeen) records[seen.imageId] ??= seen.at;
  const same = JSON.stringify(records) === JSON.stringify(previous?.records ?? {});
  if (same) return;
  await deps.store.put({
    kind: "prune",
    key: formatKey(key),
    conditions: previous?.conditions ?? [],
    ...previous,
    records,
    updatedAt: new Date(deps.clock.now()).toISOString(),
  });
}

async function recordResult(deps: PruneDeps, machine: string, report: PruneReport): Promise<void> {
  const key = pruneStatusKey(machine);
  const previous = deps.store.get(key);
  const now = new Date(deps.clock.now());
  const message =
    `removed ${report.removedImages} image(s), reclaimed ${report.reclaimedBytes} bytes, kept ` +
    `${report.kept.length}, ${report.failed} failure(s)`;
  const ready = setCondition(previous?.conditions ?? [], { type: "Ready", status: "True", reason: PruneReason.Pruned, message }, now);
  // A run is done even when some removals failed: Ready stays True, Degraded says what failed.
  const conditions =
    report.failed > 0
      ? setCondition(ready, { type: "Degraded", status: "True", reason: PruneReason.PruneFailed, message }, now)
      : removeCondition(ready, "Degraded");
  await deps.store.put({ kind: "prune", key: formatKey(key), records: {}, ...previous, conditions, updatedAt: now.toISOString() });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
