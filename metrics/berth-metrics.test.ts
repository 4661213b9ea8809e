// The whole metrics object on a fake engine, an in-memory store and fixture GPU readings.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Observed, ObservedContainer } from "../platform/observed.ts";
import type { ResourceStatus } from "../status/resource-status.ts";
import { createBerthMetrics } from "./berth-metrics.ts";
import { desiredStateFixture } from "./fixtures/desired-state.ts";
import { imageRecord, serviceRecord, sourceRecord } from "./fixtures/status-records.ts";
import type { GpuReader, GpuSnapshot } from "./gpu/nvidia-smi-reader.ts";

const MIB = 1024 * 1024;
const REVISION = "0123456789abcdef0123456789abcdef01234567";
const LLM_ID = "d".repeat(64);

function container(id: string, stack: string, service: string, health: ObservedContainer["health"]): ObservedContainer {
  return {
    id,
    name: `${stack}-${service}-1`,
    image: "berth-test/busybox:1",
    imageId: "sha256:img",
    labels: { "io.berth.managed": "true", "io.berth.stack": stack, "io.berth.service": service },
    state: "running",
    health,
    created: 0,
    status: "Up",
  };
}

function world() {
  const records = new Map<string, ResourceStatus>();
  for (const r of [
    sourceRecord(REVISION),
    imageRecord("gpu-1", "api", {
      imageId: "sha256:img",
      sizeBytes: 80 * MIB,
      previousSizeBytes: 100 * MIB,
      durationSeconds: 12,
      cacheHitRatio: 0.5,
    }),
    serviceRecord("web", "api", true),
    serviceRecord("ml", "llm", true),
  ])
    records.set(r.key, r);
  const observed: Observed = {
    containers: [container("a".repeat(64), "web", "api", "healthy"), container(LLM_ID, "ml", "llm", "none")],
    images: [{ id: "sha256:img", repoTags: [], repoDigests: [], labels: {}, sizeBytes: 80 * MIB, created: 0 }],
    takenAt: 0,
  };
  let observes = 0;
  const engine = {
    observe: async () => {
      observes += 1;
      return structuredClone(observed);
    },
  };
  const store = { all: () => [...records.values()] };
  return { records, observed, engine, store, observes: () => observes };
}

const gpuSnapshot: GpuSnapshot = {
  gpus: [
    {
      index: 0,
      uuid: "GPU-4663cca1",
      model: "NVIDIA H100 80GB HBM3",
      memoryTotalBytes: 81559 * MIB,
      memoryUsedBytes: 7053 * MIB,
      memoryFreeBytes: 74027 * MIB,
      utilizationRatio: 0.25,
    },
  ],
  processes: [{ pid: 425, processName: "python3", gpuUuid: "GPU-4663cca1", usedMemoryBytes: 7044 * MIB }],
  containerIdByPid: new Map([[425, LLM_ID]]),
  takenAt: 0,
};
const fixtureGpu: GpuReader = { read: async () => gpuSnapshot };

/** Sample lines of one family, without comments, as "name{labels} value". */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe("createBerthMetrics", () => {
  it("exposes images, services, GPUs and the desired state from one scrape", async () => {
    const w = world();
    const metrics = createBerthMetrics({
      registry: new Registry(),
      store: w.store,
      engine: w.engine,
      gpu: fixtureGpu,
      machine: "gpu-1",
      version: "1.2.3",
    });
    metrics.setDesiredState({
      ok: true,
      state: desiredStateFixture({
        revision: REVISION,
        machine: "gpu-1",
        profile: { MODEL_EVICT_THRESHOLD_PCT: "90" },
        services: [
          { stack: "web", service: "api" },
          { stack: "ml", service: "llm" },
        ],
        images: [{ name: "api", budgets: { sizeMiB: 64 } }],
      }),
    });

    const text = await metrics.registry.metrics();

    expect(samples(text, "berth_build_info")).toEqual(['berth_build_info{version="1.2.3"} 1']);
    expect(samples(text, "berth_desired_state_info")).toEqual([`berth_desired_state_info{revision="${REVISION}"} 1`]);
    expect(samples(text, "berth_desired_state_valid")).toEqual(["berth_desired_state_valid 1"]);
    expect(samples(text, "berth_image_size_bytes")).toEqual([`berth_image_size_bytes{image="api",machine="gpu-1"} ${80 * MIB}`]);
    expect(samples(text, "berth_image_size_reduction_ratio")).toEqual([
      'berth_image_size_reduction_ratio{image="api",machine="gpu-1"} 0.19999999999999996',
    ]);
    expect(samples(text, "berth_budget_exceeded")).toEqual(['berth_budget_exceeded{image="api",budget="size"} 1']);
    expect(samples(text, "berth_service_health")).toContain('berth_service_health{stack="web",service="api",state="healthy"} 1');
    expect(samples(text, "berth_service_health")).toContain('berth_service_health{stack="web",service="api",state="missing"} 0');
    expect(samples(text, "berth_service_ready")).toEqual([
      'berth_service_ready{stack="web",service="api"} 1',
      'berth_service_ready{stack="ml",service="llm"} 1',
    ]);
    expect(samples(text, "berth_gpu_memory_used_bytes")).toEqual([
      `berth_gpu_memory_used_bytes{gpu="0",uuid="GPU-4663cca1",model="NVIDIA H100 80GB HBM3"} ${7053 * MIB}`,
    ]);
    expect(samples(text, "berth_gpu_memory_threshold_ratio")).toEqual(["berth_gpu_memory_threshold_ratio 0.9"]);
    expect(samples(text, "berth_service_gpu_memory_bytes")).toEqual([
      `berth_service_gpu_memory_bytes{stack="ml",service="llm",gpu="0"} ${7044 * MIB}`,
    ]);
    expect(samples(text, "berth_prune_last_run_timestamp_seconds")).toEqual([]);
  });

  it("counts what the reconcilers report and die events of berth containers", async () => {
    const w = world();
    const metrics = createBerthMetrics({
      registry: new Registry(),
      store: w.store,
      engine: w.engine,
      machine: "gpu-1",
      now: () => 1_700_000_000_000,
    });

    metrics.events.reconciled("pass", "success", 0.3);
    metrics.events.reconciled("stacks", "failure", 2);
    metrics.events.rollout("web", "api", "rolled_back");
    metrics.events.rollback("web", "api", "Unhealthy");
    metrics.events.imageBuilt("api", "gpu-1", "success");
    metrics.events.pruned(3, 5 * MIB);
    metrics.engineEvent({
      type: "container",
      action: "die",
      id: "x",
      labels: { "io.berth.stack": "web", "io.berth.service": "api" },
      time: 0,
    });
    metrics.engineEvent({ type: "container", action: "die", id: "y", labels: {}, time: 0 });
    metrics.engineEvent({
      type: "container",
      action: "start",
      id: "x",
      labels: { "io.berth.stack": "web", "io.berth.service": "api" },
      time: 0,
    });
    const text = await metrics.registry.metrics();

    expect(samples(text, "berth_reconcile_total")).toEqual([
      'berth_reconcile_total{kind="pass",result="success"} 1',
      'berth_reconcile_total{kind="stacks",result="failure"} 1',
    ]);
    expect(samples(text, "berth_reconcile_duration_seconds_count")).toEqual([
      'berth_reconcile_duration_seconds_count{kind="pass"} 1',
      'berth_reconcile_duration_seconds_count{kind="stacks"} 1',
    ]);
    expect(samples(text, "berth_reconcile_last_success_timestamp_seconds")).toEqual([
      'berth_reconcile_last_success_timestamp_seconds{kind="pass"} 1700000000',
    ]);
    expect(samples(text, "berth_desired_state_last_applied_timestamp_seconds")).toEqual([
      "berth_desired_state_last_applied_timestamp_seconds 1700000000",
    ]);
    expect(samples(text, "berth_rollouts_total")).toEqual(['berth_rollouts_total{stack="web",service="api",result="rolled_back"} 1']);
    expect(samples(text, "berth_rollbacks_total")).toEqual(['berth_rollbacks_total{stack="web",service="api",reason="Unhealthy"} 1']);
    expect(samples(text, "berth_image_builds_total")).toEqual(['berth_image_builds_total{image="api",result="success"} 1']);
    expect(samples(text, "berth_service_restarts_total")).toEqual(['berth_service_restarts_total{stack="web",service="api"} 1']);
    expect(samples(text, "berth_prune_removed_images_total")).toEqual(["berth_prune_removed_images_total 3"]);
    expect(samples(text, "berth_prune_reclaimed_bytes_total")).toEqual([`berth_prune_reclaimed_bytes_total ${5 * MIB}`]);
    expect(samples(text, "berth_prune_last_run_timestamp_seconds")).toEqual(["berth_prune_last_run_timestamp_seconds 1700000000"]);
  });

  it("drops every series of a removed service on the next scrape", async () => {
    const w = world();
    let clock = 1_700_000_000_000;
    const metrics = createBerthMetrics({ registry: new Registry(), store: w.store, engine: w.engine, machine: "gpu-1", now: () => clock });
    const fixture = { revision: REVISION, machine: "gpu-1", images: [] };
    metrics.setDesiredState({
      ok: true,
      state: desiredStateFixture({
        ...fixture,
        services: [
          { stack: "web", service: "api" },
          { stack: "ml", service: "llm" },
        ],
      }),
    });
    metrics.events.rollback("web", "api", "Unhealthy");
    metrics.engineEvent({
      type: "container",
      action: "die",
      id: "x",
      labels: { "io.berth.stack": "web", "io.berth.service": "api" },
      time: 0,
    });
    const before = await metrics.registry.metrics();

    metrics.setDesiredState({ ok: true, state: desiredStateFixture({ ...fixture, services: [{ stack: "ml", service: "llm" }] }) });
    w.observed.containers = w.observed.containers.filter((c) => c.labels["io.berth.service"] !== "api");
    w.records.delete("service/web/api");
    clock += 1000;
    const after = await metrics.registry.metrics();

    expect(before).toContain('service="api"');
    expect(after).not.toContain('service="api"');
    expect(samples(after, "berth_service_ready")).toEqual(['berth_service_ready{stack="ml",service="llm"} 1']);
  });

  it("shows a changed status record on the next scrape while the engine look is still cached", async () => {
    const w = world();
    const metrics = createBerthMetrics({
      registry: new Registry(),
      store: w.store,
      engine: w.engine,
      machine: "gpu-1",
      engineTtlMs: 60_000,
    });
    await metrics.registry.metrics();

    w.records.set("service/web/api", serviceRecord("web", "api", false));
    const text = await metrics.registry.metrics();

    expect(samples(text, "berth_service_ready")).toContain('berth_service_ready{stack="web",service="api"} 0');
    expect(w.observes()).toBe(1);
  });

  it("has no GPU families at all on a host without nvidia-smi", async () => {
    const w = world();
    const metrics = createBerthMetrics({
      registry: new Registry(),
      store: w.store,
      engine: w.engine,
      gpu: { read: async () => undefined },
      machine: "gpu-1",
    });

    const text = await metrics.registry.metrics();

    expect(text.split("\n").filter((l) => l.startsWith("berth_gpu_") || l.startsWith("berth_service_gpu_"))).toEqual([]);
  });

  it("reports an invalid desired state and keeps the last good revision", async () => {
    const w = world();
    const metrics = createBerthMetrics({ registry: new Registry(), store: w.store, engine: w.engine, machine: "gpu-1" });
    metrics.setDesiredState({ ok: true, state: desiredStateFixture({ revision: "good", machine: "gpu-1", services: [], images: [] }) });

    metrics.setDesiredState({ ok: false });
    const text = await metrics.registry.metrics();

    expect(samples(text, "berth_desired_state_valid")).toEqual(["berth_desired_state_valid 0"]);
    expect(samples(text, "berth_desired_state_info")).toEqual(['berth_desired_state_info{revision="good"} 1']);
  });

  it("does not wait on a hung engine longer than scrapeWaitMs, and looks once per scrape", async () => {
    const w = world();
    let hang = false;
    const engine = { observe: () => (hang ? new Promise<Observed>(() => undefined) : w.engine.observe()) };
    const metrics = createBerthMetrics({
      registry: new Registry(),
      store: w.store,
      engine,
      machine: "gpu-1",
      engineTtlMs: 0,
      scrapeWaitMs: 100,
    });
    await metrics.registry.metrics();
    hang = true;
    const start = performance.now();

    const text = await metrics.registry.metrics();

    expect(performance.now() - start).toBeLessThan(1000);
    expect(w.observes()).toBe(1);
    expect(samples(text, "berth_service_health")).toContain('berth_service_health{stack="web",service="api",state="healthy"} 1');
  });

  it("admits GPU services through the hook with the machine's profile", async () => {
    const w = world();
    const metrics = createBerthMetrics({ registry: new Registry(), store: w.store, engine: w.engine, gpu: fixtureGpu, machine: "gpu-1" });
    metrics.setDesiredState({
      ok: true,
      state: desiredStateFixture({
        revision: REVISION,
        machine: "gpu-1",
        profile: { MODEL_EVICT_THRESHOLD_PCT: "90" },
        services: [],
        images: [],
      }),
    });

    const small = await metrics.admitGpu({ vramMiB: 1024 });
    const big = await metrics.admitGpu({ vramMiB: 70_000 });

    expect(small).toEqual({ ok: true });
    expect(big).toMatchObject({ ok: false, reason: "InsufficientVRAM" });
  });
});
