// Attributes each GPU process's memory to the berth service whose container it runs in.
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import type { GpuProcess, GpuReading } from "./parse-nvidia-smi.ts";

export type ServiceGpuMemory = { stack: string; service: string; gpu: string; bytes: number };

/**
 * Sums used VRAM per (stack, service, gpu index). `containerIdByPid` comes from
 * /proc/<pid>/cgroup; processes outside berth containers, or with unknown memory, are skipped.
 */
export function attributeGpuMemory(
  processes: readonly GpuProcess[],
  containerIdByPid: ReadonlyMap<number, string | undefined>,
  containers: readonly ObservedContainer[],
  gpus: readonly GpuReading[],
): ServiceGpuMemory[] {
  const byId = new Map(containers.map((c) => [c.id, c]));
  const gpuByUuid = new Map(gpus.map((g) => [g.uuid, String(g.index)]));
  const sums = new Map<string, ServiceGpuMemory>();
  for (const process of processes) {
    if (process.usedMemoryBytes === undefined) continue;
    const id = containerIdByPid.get(process.pid);
    const container = id ? byId.get(id) : undefined;
    const stack = container?.labels[LABELS.stack];
    const service = container?.labels[LABELS.service];
    if (!stack || !service) continue;
    const gpu = gpuByUuid.get(process.gpuUuid) ?? process.gpuUuid;
    const key = `${stack}\0${service}\0${gpu}`;
    const previous = sums.get(key);
    sums.set(key, { stack, service, gpu, bytes: (previous?.bytes ?? 0) + process.usedMemoryBytes });
  }
  return [...sums.values()];
}
