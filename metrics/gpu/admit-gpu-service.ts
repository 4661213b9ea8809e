// VRAM admission (the seed's OOM rule): start or swap a GPU service only when its memory fits.
import type { GpuNeed } from "../../desired-state/compose-extension-schema.ts";
import type { Profile } from "../../profiles/profile-schema.ts";
import type { GpuReading } from "./parse-nvidia-smi.ts";

/** `retryAfterMs`: VRAM other processes hold may free up, so a refusal for it is looked at again after that long. */
export type GpuAdmission = { ok: true } | { ok: false; reason: "InsufficientVRAM" | "NoGpu"; message: string; retryAfterMs?: number };

/** How soon a service refused for VRAM is looked at again. */
export const VRAM_RETRY_MS = 30_000;

/** The stacks reconciler's hook: asks before it starts or swaps a service that declares `x-berth.gpu`. */
export type GpuAdmissionHook = (need: GpuNeed) => Promise<GpuAdmission>;

export const EVICT_THRESHOLD_VARIABLE = "MODEL_EVICT_THRESHOLD_PCT";

const MIB = 1024 * 1024;

/** The profile's MODEL_EVICT_THRESHOLD_PCT as a ratio (0..1], or undefined when absent or not a percentage. */
export function evictThresholdRatio(profile: Profile | undefined): number | undefined {
  const text = profile?.[EVICT_THRESHOLD_VARIABLE];
  if (text === undefined || !/^\s*\d+(?:\.\d+)?\s*$/.test(text)) return undefined;
  const pct = Number(text);
  return pct > 0 && pct <= 100 ? pct / 100 : undefined;
}

function mib(bytes: number): string {
  return `${Math.floor(bytes / MIB)} MiB`;
}

/**
 * Decides whether a service needing `need.count` GPUs (default 1) with `need.vramMiB` each fits:
 * on each chosen GPU the need must fit in the free memory, and used + need must stay at or
 * below the profile's MODEL_EVICT_THRESHOLD_PCT of the total (100 % when the profile has none).
 * GPUs whose memory reads [N/A] cannot be checked and are admitted on count alone.
 */
export function admitGpuService(need: GpuNeed, readings: readonly GpuReading[] | undefined, profile: Profile | undefined): GpuAdmission {
  const count = need.count ?? 1;
  const gpus = readings ?? [];
  if (gpus.length < count) {
    return {
      ok: false,
      reason: "NoGpu",
      message:
        `needs ${count} GPU${count === 1 ? "" : "s"}, this host has ` +
        `${gpus.length}${readings === undefined ? " (nvidia-smi unavailable)" : ""}`,
    };
  }
  if (need.vramMiB === undefined) return { ok: true };
  const needBytes = need.vramMiB * MIB;
  const threshold = evictThresholdRatio(profile) ?? 1;
  const headroom = gpus
    .map((gpu) => {
      const { memoryTotalBytes: total, memoryUsedBytes: used } = gpu;
      if (total === undefined || (used === undefined && gpu.memoryFreeBytes === undefined)) return { gpu, room: Number.POSITIVE_INFINITY };
      const free = gpu.memoryFreeBytes ?? total - (used ?? 0);
      const usedNow = used ?? total - free;
      return { gpu, room: Math.min(free, total * threshold - usedNow), free, total };
    })
    .sort((a, b) => b.room - a.room);
  const fitting = headroom.filter((h) => h.room >= needBytes);
  if (fitting.length >= count) return { ok: true };
  const detail = headroom
    .slice(0, Math.max(count, 1))
    .map((h) =>
      h.free === undefined
        ? `GPU ${h.gpu.index}: unknown`
        : `GPU ${h.gpu.index}: ${mib(h.free)} free of ${mib(h.total ?? 0)}, ${mib(Math.max(0, h.room))} usable under ` +
          `${Math.round(threshold * 100)}%`,
    )
    .join("; ");
  return {
    ok: false,
    reason: "InsufficientVRAM",
    retryAfterMs: VRAM_RETRY_MS,
    message:
      `needs ${need.vramMiB} MiB on ${count} GPU${count === 1 ? "" : "s"} ` +
      `(${EVICT_THRESHOLD_VARIABLE}=${Math.round(threshold * 100)}), ${fitting.length} fit; ${detail}`,
  };
}
