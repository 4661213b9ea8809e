// The VRAM guard's decision (pure): during its monitor window a GPU service may use no more than its
// `x-berth.gpu.vramMiB` per GPU, and the GPUs it uses stay at or below MODEL_EVICT_THRESHOLD_PCT.
import type { GpuNeed } from "../../desired-state/compose-extension-schema.ts";
import type { Profile } from "../../profiles/profile-schema.ts";
import { EVICT_THRESHOLD_VARIABLE, evictThresholdRatio } from "./admit-gpu-service.ts";
import type { GpuSnapshot } from "./nvidia-smi-reader.ts";

export type VramVerdict = { ok: true } | { ok: false; message: string };

const MIB = 1024 * 1024;

function mib(bytes: number): number {
  return Math.round(bytes / MIB);
}

/** Checks one container (full id) against its need and the profile's threshold; GPUs it has no process on are not its concern. */
export function assessVram(input: {
  containerId: string;
  need: GpuNeed | undefined;
  profile: Profile | undefined;
  snapshot: Pick<GpuSnapshot, "gpus" | "processes" | "containerIdByPid">;
}): VramVerdict {
  const { snapshot } = input;
  const used = new Map<string, number>();
  for (const process of snapshot.processes) {
    if (process.usedMemoryBytes === undefined || snapshot.containerIdByPid.get(process.pid) !== input.containerId) continue;
    used.set(process.gpuUuid, (used.get(process.gpuUuid) ?? 0) + process.usedMemoryBytes);
  }
  const threshold = evictThresholdRatio(input.profile);
  const problems: string[] = [];
  for (const [uuid, bytes] of used) {
    const gpu = snapshot.gpus.find((g) => g.uuid === uuid);
    const name = gpu ? `GPU ${gpu.index}` : uuid;
    const limit = input.need?.vramMiB;
    if (limit !== undefined && bytes > limit * MIB)
      problems.push(`uses ${mib(bytes)} MiB of VRAM on ${name}, more than its vramMiB ${limit}`);
    const total = gpu?.memoryTotalBytes;
    const usedOnGpu =
      gpu?.memoryUsedBytes ?? (total !== undefined && gpu?.memoryFreeBytes !== undefined ? total - gpu.memoryFreeBytes : undefined);
    if (threshold !== undefined && total !== undefined && usedOnGpu !== undefined && usedOnGpu > total * threshold) {
      const pct = ((usedOnGpu / total) * 100).toFixed(1);
      problems.push(
        `${name} holds ${mib(usedOnGpu)} of ${mib(total)} MiB (${pct}%), above ${EVICT_THRESHOLD_VARIABLE}=${Math.round(threshold * 100)}`,
      );
    }
  }
  return problems.length === 0 ? { ok: true } : { ok: false, message: problems.join("; ") };
}
