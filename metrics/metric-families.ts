// Every metric family berth exports (names, help, labels) on one injected prom-client Registry.
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";

export const SERVICE_HEALTH_STATES = ["healthy", "unhealthy", "starting", "none", "missing"] as const;
export type ServiceHealthState = (typeof SERVICE_HEALTH_STATES)[number];

export const BUDGET_NAMES = ["size", "build_time", "cache_hit_ratio", "min_reduction"] as const;
export type BudgetName = (typeof BUDGET_NAMES)[number];

export const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * Point-in-time families get `collect`, which awaits the one shared refresh of the scrape
 * (one engine look, one nvidia-smi reading) that resets and fills them all.
 */
export function createMetricFamilies(registry: Registry, collect: () => Promise<void>) {
  const registers = [registry];
  function gauge<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers,
      collect: async function () {
        await collect();
      },
    });
  }
  function counter<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return new Counter<L>({
      name,
      help,
      labelNames,
      registers,
      collect: async function () {
        await collect();
      },
    });
  }
  return {
    // reconcile
    reconcileTotal: counter("berth_reconcile_total", "Reconcile runs by kind (images, stacks, prune, pass) and result.", [
      "kind",
      "result",
    ]),
    reconcileDuration: new Histogram<"kind">({
      name: "berth_reconcile_duration_seconds",
      help: "Duration of reconcile runs by kind.",
      labelNames: ["kind"],
      buckets: RECONCILE_BUCKETS,
      registers,
    }),
    reconcileLastSuccess: gauge(
      "berth_reconcile_last_success_timestamp_seconds",
      "Unix time of the last successful (or no-op) reconcile run by kind.",
      ["kind"],
    ),
    desiredStateInfo: gauge(
      "berth_desired_state_info",
      "The desired-state revision (git commit or content digest) this host last loaded; always 1.",
      ["revision"],
    ),
    desiredStateValid: gauge(
      "berth_desired_state_valid",
      "1 when the last load of the desired state validated, 0 when it was rejected.",
      [],
    ),
    desiredStateLastApplied: gauge(
      "berth_desired_state_last_applied_timestamp_seconds",
      "Unix time the desired state was last fully applied by a successful pass.",
      [],
    ),
    buildInfo: new Gauge<"version">({
      name: "berth_build_info",
      help: "berth version running on this host; always 1.",
      labelNames: ["version"],
      registers,
    }),
    // images
    imageSize: gauge("berth_image_size_bytes", "Size of the current image of each berth image on this machine.", ["image", "machine"]),
    imageShared: gauge("berth_image_shared_bytes", "Bytes of the image's layers shared with its parent image.", ["image", "machine"]),
    imageReduction: gauge(
      "berth_image_size_reduction_ratio",
      "1 - size / baseline, against the declared baseline or the previous image of that name (positive: smaller).",
      ["image", "machine"],
    ),
    imageBuildDuration: gauge("berth_image_build_duration_seconds", "Duration of the build that produced the current image.", [
      "image",
      "machine",
    ]),
    imageCacheHit: gauge(
      "berth_image_build_cache_hit_ratio",
      "Cached steps / completed steps of the build that produced the current image.",
      ["image", "machine"],
    ),
    imageSizeBudget: gauge("berth_image_size_budget_bytes", "Declared size budget of the image.", ["image", "machine"]),
    imageBuildDurationBudget: gauge("berth_image_build_duration_budget_seconds", "Declared build-time budget of the image.", [
      "image",
      "machine",
    ]),
    imageCacheHitBudget: gauge("berth_image_build_cache_hit_ratio_budget", "Declared minimum cache-hit ratio of the image's builds.", [
      "image",
      "machine",
    ]),
    imageReductionBudget: gauge(
      "berth_image_size_reduction_budget_ratio",
      "Declared least size reduction of the image against its baseline.",
      ["image", "machine"],
    ),
    budgetExceeded: gauge(
      "berth_budget_exceeded",
      "1 when the current image breaks the named budget (size, build_time, cache_hit_ratio, min_reduction), else 0.",
      ["image", "budget"],
    ),
    imageVulnerabilities: gauge(
      "berth_image_vulnerabilities",
      "Vulnerabilities the gate's last scan found in the current image, by severity (allowed and ignored-unfixed ones left out).",
      ["image", "severity"],
    ),
    imageBuilds: counter("berth_image_builds_total", "Image builds by result.", ["image", "result"]),
    imagePulls: counter("berth_image_pulls_total", "Image pulls by result.", ["image", "result"]),
    // services
    serviceHealth: gauge(
      "berth_service_health",
      "1 for the current health state of the service's containers (healthy, unhealthy, starting, none, missing), 0 for the others.",
      ["stack", "service", "state"],
    ),
    serviceReady: gauge("berth_service_ready", "1 when the service's Ready condition is True.", ["stack", "service"]),
    serviceWaiting: gauge("berth_service_waiting", "1 while the service waits to start, by reason (e.g. InsufficientVRAM).", [
      "stack",
      "service",
      "reason",
    ]),
    serviceRestarts: counter(
      "berth_service_restarts_total",
      "Container exits (engine die events) of the service's containers seen by this agent.",
      ["stack", "service"],
    ),
    rollouts: counter("berth_rollouts_total", "Rollouts by result (success, failure, rolled_back).", ["stack", "service", "result"]),
    rollbacks: counter("berth_rollbacks_total", "Rollbacks by reason.", ["stack", "service", "reason"]),
    // GPU
    gpuMemoryUsed: gauge("berth_gpu_memory_used_bytes", "Used GPU memory (nvidia-smi memory.used).", ["gpu", "uuid", "model"]),
    gpuMemoryTotal: gauge("berth_gpu_memory_total_bytes", "Total GPU memory (nvidia-smi memory.total).", ["gpu", "uuid", "model"]),
    gpuMemoryFree: gauge("berth_gpu_memory_free_bytes", "Free GPU memory (nvidia-smi memory.free).", ["gpu", "uuid", "model"]),
    gpuUtilization: gauge("berth_gpu_utilization_ratio", "GPU utilization (nvidia-smi utilization.gpu / 100).", ["gpu", "uuid", "model"]),
    gpuThreshold: gauge("berth_gpu_memory_threshold_ratio", "The machine profile's MODEL_EVICT_THRESHOLD_PCT / 100.", []),
    serviceGpuMemory: gauge("berth_service_gpu_memory_bytes", "GPU memory used by the service's container processes, per GPU index.", [
      "stack",
      "service",
      "gpu",
    ]),
    // prune
    pruneReclaimed: new Counter({ name: "berth_prune_reclaimed_bytes_total", help: "Bytes reclaimed by prune runs.", registers }),
    pruneRemoved: new Counter({ name: "berth_prune_removed_images_total", help: "Images removed by prune runs.", registers }),
    pruneLastRun: gauge("berth_prune_last_run_timestamp_seconds", "Unix time of the last prune run.", []),
    registryTagsDeleted: counter(
      "berth_registry_tags_deleted_total",
      "Registry tags deleted by `berth prune --registry` (with their manifests), as the machine's record counts them.",
      ["registry"],
    ),
    registryTagsKept: gauge("berth_registry_tags_kept", "Tags of berth's repositories the last `berth prune --registry` kept.", [
      "registry",
    ]),
    registryDeleteUnsupported: gauge(
      "berth_registry_delete_unsupported",
      "1 when the registry refused deletes (405 / UNSUPPORTED) in the last `berth prune --registry`.",
      ["registry"],
    ),
  };
}

export type MetricFamilies = ReturnType<typeof createMetricFamilies>;
