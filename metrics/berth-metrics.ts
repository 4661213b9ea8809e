// berth's metrics: counters fed through ReconcileEvents, point-in-time gauges filled in collect()
// from one cached engine look, one cached nvidia-smi reading and the status store.
import type { Registry } from "prom-client";
import type { DesiredState } from "../desired-state/desired-state.ts";
import type { DockerEngine, EngineEvent } from "../platform/docker-engine.ts";
import { LABELS } from "../platform/labels.ts";
import type { Observed } from "../platform/observed.ts";
import type { ReconcileEvents } from "../status/reconcile-events.ts";
import { formatKey } from "../status/resource-key.ts";
import type { ResourceStatus } from "../status/resource-status.ts";
import type { StatusStore } from "../status/status-store.ts";
import { BERTH_VERSION } from "./berth-version.ts";
import { createCachedReader } from "./cached-reader.ts";
import { desiredView } from "./desired-view.ts";
import type { DesiredView } from "./desired-view.ts";
import { admitGpuService, evictThresholdRatio } from "./gpu/admit-gpu-service.ts";
import type { GpuAdmissionHook } from "./gpu/admit-gpu-service.ts";
import { attributeGpuMemory } from "./gpu/attribute-gpu-memory.ts";
import type { GpuReader, GpuSnapshot } from "./gpu/nvidia-smi-reader.ts";
import { imageSeries } from "./image-series.ts";
import { createMetricFamilies, SERVICE_HEALTH_STATES } from "./metric-families.ts";
import { fillRegistryPrune } from "./registry-prune-series.ts";
import { serviceKey, serviceSeries } from "./service-series.ts";

export type DesiredStateUpdate = { ok: true; state: DesiredState } | { ok: false; revision?: string };

export type BerthMetricsOptions = {
  registry: Registry;
  store: Pick<StatusStore, "all">;
  /** Undefined: no service health series (e.g. a unit test with no engine). */
  engine?: Pick<DockerEngine, "observe">;
  /** Undefined: no GPU families. */
  gpu?: GpuReader;
  machine: string;
  version?: string;
  now?: () => number;
  /** How long one engine look / GPU reading serves scrapes (default 0.5 s / 5 s). */
  engineTtlMs?: number;
  gpuTtlMs?: number;
  /** How long a scrape waits for a fresh look before using the previous one (default 1.5 s). */
  scrapeWaitMs?: number;
};

export type BerthMetrics = {
  registry: Registry;
  events: ReconcileEvents;
  /** The result of loading the desired state (loadDesiredState's shape works as is). */
  setDesiredState(update: DesiredStateUpdate): void;
  /** Feed of engine events: container `die` events of berth services count as restarts. */
  engineEvent(event: EngineEvent): void;
  /** Hands the pass's own engine look to the scrape cache (saves a Docker call). */
  setObserved(observed: Observed): void;
  /** The stacks reconciler's VRAM admission hook, on a fresh GPU reading and this machine's profile. */
  admitGpu: GpuAdmissionHook;
  /** Why the last engine look failed, if it did (for a one-shot CLI; the agent logs its own). */
  engineError(): string | undefined;
};

/** A labelled counter series to drop when its service or image leaves. */
type Tracked = { id: string; remove: () => void };

export function createBerthMetrics(options: BerthMetricsOptions): BerthMetrics {
  const { registry, store, machine } = options;
  const now = options.now ?? Date.now;
  const waitMs = options.scrapeWaitMs ?? 1500;
  const engine = options.engine;
  const engineCache = engine
    ? createCachedReader(() => engine.observe(), { ttlMs: options.engineTtlMs ?? 500, waitMs, maxStaleMs: 60_000, now })
    : undefined;
  const gpuReader = options.gpu;
  const gpuCache = gpuReader
    ? createCachedReader<GpuSnapshot | undefined>(() => gpuReader.read(), {
        ttlMs: options.gpuTtlMs ?? 5000,
        waitMs,
        maxStaleMs: 30_000,
        now,
      })
    : undefined;

  let desired: DesiredView | undefined;
  let revision: string | undefined;
  let valid: boolean | undefined;
  let lastApplied: number | undefined;
  const serviceCounters = new Map<string, Tracked[]>();
  const imageCounters = new Map<string, Tracked[]>();

  let refreshing: Promise<void> | undefined;
  function collect(): Promise<void> {
    refreshing ??= refresh().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }
  const m = createMetricFamilies(registry, collect);
  m.buildInfo.set({ version: options.version ?? BERTH_VERSION }, 1);
  m.pruneLastRun.remove();

  /**
   * What each group of gauges was last filled from. A scrape whose inputs did not change (warm
   * cache, same records, same containers) keeps the values instead of resetting and refilling.
   */
  let filled:
    { records: ResourceStatus[]; generation: number; images: string; containers: string; gpu: GpuSnapshot | undefined } | undefined;
  let generation = 0;

  async function refresh(): Promise<void> {
    const [observed, gpu] = await Promise.all([engineCache?.get(), gpuCache?.get()]);
    const records = store.all();
    const images = observed ? observed.images.map((i) => i.id).join(",") : "-";
    const containers = observed ? observed.containers.map((c) => `${c.id}:${c.state}:${c.health}`).join(",") : "-";
    const same = filled !== undefined && filled.generation === generation && sameRecords(filled.records, records);
    if (!same) fillDesiredState(records);
    if (!same || filled?.images !== images) fillImages(records, observed);
    if (!same || filled?.containers !== containers) fillServices(records, observed);
    if (!same || filled?.containers !== containers || filled.gpu !== gpu) fillGpu(gpu, observed);
    filled = { records, generation, images, containers, gpu };
  }

  function fillDesiredState(records: ReturnType<typeof store.all>): void {
    const source = records.find((r) => r.kind === "source");
    const shownRevision = revision ?? source?.lastAppliedRevision ?? source?.observedRevision;
    m.desiredStateInfo.reset();
    if (shownRevision) m.desiredStateInfo.set({ revision: shownRevision }, 1);
    m.desiredStateValid.reset();
    if (valid !== undefined) m.desiredStateValid.set(valid ? 1 : 0);
    else m.desiredStateValid.remove();
    const appliedAt = lastApplied ?? (source?.lastAppliedRevision ? Date.parse(source.updatedAt) : Number.NaN);
    m.desiredStateLastApplied.reset();
    if (Number.isFinite(appliedAt)) m.desiredStateLastApplied.set(appliedAt / 1000);
    else m.desiredStateLastApplied.remove();
    const prune = records.find((r) => r.key === formatKey({ kind: "prune", machine }));
    fillRegistryPrune(m, prune && "registryPrune" in prune ? prune.registryPrune : undefined);
  }

  function fillImages(records: ReturnType<typeof store.all>, observed: Observed | undefined): void {
    const rows = imageSeries(records, machine, {
      ...(desired ? { desired: desired.images } : {}),
      ...(observed ? { presentImageIds: new Set(observed.images.map((i) => i.id)), engineImages: observed.images } : {}),
    });
    for (const g of [
      m.imageSize,
      m.imageShared,
      m.imageReduction,
      m.imageBuildDuration,
      m.imageCacheHit,
      m.imageSizeBudget,
      m.imageBuildDurationBudget,
      m.imageCacheHitBudget,
      m.imageReductionBudget,
      m.budgetExceeded,
      m.imageVulnerabilities,
    ])
      g.reset();
    for (const row of rows) {
      const labels = { image: row.image, machine };
      m.imageSize.set(labels, row.sizeBytes);
      if (row.sharedBytes !== undefined) m.imageShared.set(labels, row.sharedBytes);
      if (row.reductionRatio !== undefined) m.imageReduction.set(labels, row.reductionRatio);
      if (row.buildDurationSeconds !== undefined) m.imageBuildDuration.set(labels, row.buildDurationSeconds);
      if (row.cacheHitRatio !== undefined) m.imageCacheHit.set(labels, row.cacheHitRatio);
      for (const [severity, count] of Object.entries(row.vulnerabilities ?? {}))
        m.imageVulnerabilities.set({ image: row.image, severity }, count);
      for (const b of row.budgets) {
        m.budgetExceeded.set({ image: row.image, budget: b.budget }, b.exceeded ? 1 : 0);
        if (Number.isNaN(b.limit)) continue;
        const limitGauge = {
          size: m.imageSizeBudget,
          build_time: m.imageBuildDurationBudget,
          cache_hit_ratio: m.imageCacheHitBudget,
          min_reduction: m.imageReductionBudget,
        }[b.budget];
        limitGauge.set(labels, b.limit);
      }
    }
    if (desired) {
      for (const [image, tracked] of imageCounters) {
        if (desired.images.has(image)) continue;
        for (const t of tracked) t.remove();
        imageCounters.delete(image);
      }
    }
  }

  function fillServices(records: ReturnType<typeof store.all>, observed: Observed | undefined): void {
    const rows = serviceSeries({
      records,
      ...(desired ? { desired: desired.services } : {}),
      ...(observed ? { containers: observed.containers } : {}),
    });
    m.serviceHealth.reset();
    m.serviceReady.reset();
    m.serviceWaiting.reset();
    for (const row of rows) {
      const labels = { stack: row.stack, service: row.service };
      if (row.health) for (const state of SERVICE_HEALTH_STATES) m.serviceHealth.set({ ...labels, state }, state === row.health ? 1 : 0);
      m.serviceReady.set(labels, row.ready ? 1 : 0);
      if (row.waiting) m.serviceWaiting.set({ ...labels, reason: row.waiting }, 1);
    }
    // Counters of services that left both the desired state and the engine vanish too.
    if (desired && observed) {
      const known = new Set(rows.map((r) => serviceKey(r.stack, r.service)));
      for (const [key, tracked] of serviceCounters) {
        if (known.has(key)) continue;
        for (const t of tracked) t.remove();
        serviceCounters.delete(key);
      }
    }
  }

  function fillGpu(gpu: GpuSnapshot | undefined, observed: Observed | undefined): void {
    for (const g of [m.gpuMemoryUsed, m.gpuMemoryTotal, m.gpuMemoryFree, m.gpuUtilization, m.serviceGpuMemory, m.gpuThreshold]) g.reset();
    if (!gpu) {
      m.gpuThreshold.remove();
      return;
    }
    for (const reading of gpu.gpus) {
      const labels = { gpu: String(reading.index), uuid: reading.uuid, model: reading.model };
      if (reading.memoryUsedBytes !== undefined) m.gpuMemoryUsed.set(labels, reading.memoryUsedBytes);
      if (reading.memoryTotalBytes !== undefined) m.gpuMemoryTotal.set(labels, reading.memoryTotalBytes);
      if (reading.memoryFreeBytes !== undefined) m.gpuMemoryFree.set(labels, reading.memoryFreeBytes);
      if (reading.utilizationRatio !== undefined) m.gpuUtilization.set(labels, reading.utilizationRatio);
    }
    const threshold = evictThresholdRatio(desired?.profile);
    if (threshold !== undefined && gpu.gpus.length > 0) m.gpuThreshold.set(threshold);
    else m.gpuThreshold.remove();
    if (!observed) return;
    for (const row of attributeGpuMemory(gpu.processes, gpu.containerIdByPid, observed.containers, gpu.gpus)) {
      m.serviceGpuMemory.set({ stack: row.stack, service: row.service, gpu: row.gpu }, row.bytes);
    }
  }

  function track(map: Map<string, Tracked[]>, key: string, id: string, remove: () => void): void {
    const list = map.get(key) ?? [];
    if (list.some((t) => t.id === id)) return;
    list.push({ id, remove });
    map.set(key, list);
    generation += 1;
  }

  const events: ReconcileEvents = {
    reconciled(kind, result, seconds) {
      m.reconcileTotal.inc({ kind, result });
      m.reconcileDuration.observe({ kind }, seconds);
      // A run that acted may have created or removed containers: the next scrape looks again.
      if (result !== "noop") engineCache?.invalidate();
      if (result === "failure") return;
      m.reconcileLastSuccess.set({ kind }, now() / 1000);
      if (kind === "pass") {
        lastApplied = now();
        generation += 1;
      }
    },
    imageBuilt(image, _machine, result) {
      const labels = { image, result };
      m.imageBuilds.inc(labels);
      track(imageCounters, image, `builds\0${result}`, () => m.imageBuilds.remove(labels));
    },
    imagePulled(image, _machine, result) {
      const labels = { image, result };
      m.imagePulls.inc(labels);
      track(imageCounters, image, `pulls\0${result}`, () => m.imagePulls.remove(labels));
    },
    rollout(stack, service, result) {
      const labels = { stack, service, result };
      m.rollouts.inc(labels);
      track(serviceCounters, serviceKey(stack, service), `rollouts\0${result}`, () => m.rollouts.remove(labels));
    },
    rollback(stack, service, reason) {
      const labels = { stack, service, reason };
      m.rollbacks.inc(labels);
      track(serviceCounters, serviceKey(stack, service), `rollbacks\0${reason}`, () => m.rollbacks.remove(labels));
    },
    pruned(removedImages, reclaimedBytes) {
      m.pruneRemoved.inc(Math.max(0, removedImages));
      m.pruneReclaimed.inc(Math.max(0, reclaimedBytes));
      m.pruneLastRun.set(now() / 1000);
    },
  };

  return {
    registry,
    events,
    setDesiredState(update) {
      generation += 1;
      if (update.ok) {
        desired = desiredView(update.state, machine);
        revision = update.state.revision;
        valid = true;
      } else {
        valid = false;
        if (update.revision) revision = update.revision;
      }
    },
    engineEvent(event) {
      if (event.type !== "container" || event.action !== "die") return;
      const stack = event.labels[LABELS.stack];
      const service = event.labels[LABELS.service];
      if (!stack || !service) return;
      const labels = { stack, service };
      m.serviceRestarts.inc(labels);
      track(serviceCounters, serviceKey(stack, service), "restarts", () => m.serviceRestarts.remove(labels));
    },
    setObserved(observed) {
      engineCache?.set(observed);
    },
    engineError() {
      const error = engineCache?.lastError;
      return error === undefined ? undefined : error instanceof Error ? error.message : String(error);
    },
    async admitGpu(need) {
      const reading = gpuReader ? await gpuReader.read() : undefined;
      return admitGpuService(need, reading?.gpus, desired?.profile);
    },
  };
}

/** The store replaces a record object on every put, so identity tells whether anything changed. */
function sameRecords(a: readonly ResourceStatus[], b: readonly ResourceStatus[]): boolean {
  return a.length === b.length && a.every((record, i) => record === b[i]);
}
