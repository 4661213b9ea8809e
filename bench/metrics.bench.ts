// Bench: one /metrics scrape of a host with 200 services and 100 images (warm engine and GPU cache).
import { Registry } from "prom-client";
import { medianMs } from "./bench-row.ts";
import type { BenchRow } from "./bench-row.ts";
import { createBerthMetrics } from "../metrics/berth-metrics.ts";
import { desiredStateFixture } from "../metrics/fixtures/desired-state.ts";
import { imageRecord, serviceRecord, sourceRecord } from "../metrics/fixtures/status-records.ts";
import type { GpuSnapshot } from "../metrics/gpu/nvidia-smi-reader.ts";
import type { Observed } from "../platform/observed.ts";
import type { ResourceStatus } from "../status/resource-status.ts";

const SERVICES = 200;
const IMAGES = 100;
const STACKS = 20;
const MIB = 1024 * 1024;
const MACHINE = "mainpc";

function host() {
  const services = Array.from({ length: SERVICES }, (_, i) => ({ stack: `stack-${i % STACKS}`, service: `svc-${i}` }));
  const images = Array.from({ length: IMAGES }, (_, i) => ({
    name: `image-${i}`,
    budgets: { sizeMiB: 200, buildSeconds: 300, cacheHitRatio: 0.7 },
  }));
  const records: ResourceStatus[] = [
    sourceRecord("0123456789abcdef0123456789abcdef01234567"),
    ...images.map((image, i) =>
      imageRecord(MACHINE, image.name, {
        imageId: `sha256:${String(i).padStart(64, "0")}`,
        sizeBytes: (150 + i) * MIB,
        sharedBytes: 100 * MIB,
        previousSizeBytes: 180 * MIB,
        durationSeconds: 30 + i,
        cacheHitRatio: 0.8,
      }),
    ),
    ...services.map((s, i) => serviceRecord(s.stack, s.service, i % 10 !== 0)),
  ];
  const observed: Observed = {
    containers: services.map((s, i) => ({
      id: i.toString(16).padStart(64, "c"),
      name: `${s.stack}-${s.service}-1`,
      image: `image-${i % IMAGES}`,
      imageId: `sha256:${String(i % IMAGES).padStart(64, "0")}`,
      labels: {
        "io.berth.managed": "true",
        "io.berth.stack": s.stack,
        "io.berth.service": s.service,
        "com.docker.compose.project": s.stack,
        "com.docker.compose.service": s.service,
      },
      state: "running",
      health: i % 7 === 0 ? "unhealthy" : "healthy",
      created: 1_700_000_000,
      status: "Up 2 hours (healthy)",
    })),
    images: images.map((_, i) => ({
      id: `sha256:${String(i).padStart(64, "0")}`,
      repoTags: [`berth/image-${i}:abc`],
      repoDigests: [],
      labels: {},
      sizeBytes: (150 + i) * MIB,
      created: 1_700_000_000,
    })),
    takenAt: Date.now(),
  };
  const gpu: GpuSnapshot = {
    gpus: [0, 1].map((index) => ({
      index,
      uuid: `GPU-${index}`,
      model: "NVIDIA H100 80GB HBM3",
      memoryTotalBytes: 81559 * MIB,
      memoryUsedBytes: 7053 * MIB,
      memoryFreeBytes: 74027 * MIB,
      utilizationRatio: 0.3,
    })),
    processes: Array.from({ length: 8 }, (_, i) => ({
      pid: 1000 + i,
      processName: "python3",
      gpuUuid: `GPU-${i % 2}`,
      usedMemoryBytes: 800 * MIB,
    })),
    containerIdByPid: new Map(Array.from({ length: 8 }, (_, i) => [1000 + i, i.toString(16).padStart(64, "c")] as [number, string])),
    takenAt: Date.now(),
  };
  return { services, images, records, observed, gpu };
}

export async function run(): Promise<BenchRow[]> {
  const h = host();
  const metrics = createBerthMetrics({
    registry: new Registry(),
    store: { all: () => h.records },
    engine: { observe: async () => h.observed },
    gpu: { read: async () => h.gpu },
    machine: MACHINE,
    engineTtlMs: 60_000,
    gpuTtlMs: 60_000,
  });
  metrics.setDesiredState({
    ok: true,
    state: desiredStateFixture({
      revision: "0123456789abcdef0123456789abcdef01234567",
      machine: MACHINE,
      profile: { MODEL_EVICT_THRESHOLD_PCT: "90" },
      services: h.services,
      images: h.images,
    }),
  });
  for (let i = 0; i < 50; i += 1) metrics.events.rollout(`stack-${i % STACKS}`, `svc-${i}`, "success");
  metrics.events.reconciled("pass", "success", 1);
  const first = await metrics.registry.metrics();
  const series = first.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length;
  for (let i = 0; i < 5; i += 1) await metrics.registry.metrics();
  const warm = await medianMs(31, () => metrics.registry.metrics());

  // Every scrape after a new engine look in which one container's health changed: the service
  // and GPU gauges are reset and refilled (the image gauges are kept, their inputs are the same).
  let flips = 0;
  const changing = async (): Promise<Observed> => {
    flips += 1;
    const [head, ...rest] = h.observed.containers;
    return {
      ...h.observed,
      containers: head ? [{ ...head, health: flips % 2 === 0 ? "healthy" : "starting" }, ...rest] : rest,
      takenAt: Date.now(),
    };
  };
  const refilling = createBerthMetrics({
    registry: new Registry(),
    store: { all: () => h.records },
    engine: { observe: changing },
    gpu: { read: async () => h.gpu },
    machine: MACHINE,
    engineTtlMs: 0,
    gpuTtlMs: 60_000,
  });
  refilling.setDesiredState({
    ok: true,
    state: desiredStateFixture({
      revision: "0123456789abcdef0123456789abcdef01234567",
      machine: MACHINE,
      profile: { MODEL_EVICT_THRESHOLD_PCT: "90" },
      services: h.services,
      images: h.images,
    }),
  });
  for (let i = 0; i < 5; i += 1) await refilling.registry.metrics();
  const refill = await medianMs(31, () => refilling.registry.metrics());
  return [
    {
      name: `metrics scrape, ${SERVICES} services + ${IMAGES} images (warm cache)`,
      value: Math.round(warm * 100) / 100,
      unit: "ms",
      target: "≤ 25 ms",
      pass: warm <= 25,
      note: `median of 31 scrapes, ${series} series, ${Math.round(first.length / 1024)} KiB exposition`,
    },
    {
      name: `metrics scrape, ${SERVICES} services + ${IMAGES} images (a container changed since the last scrape)`,
      value: Math.round(refill * 100) / 100,
      unit: "ms",
      target: "≤ 25 ms",
      pass: refill <= 25,
      note: "service and GPU gauges refilled every scrape; the engine is a fake (no Docker time)",
    },
  ];
}
