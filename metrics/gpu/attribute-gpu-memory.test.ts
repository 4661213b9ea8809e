// Per-service VRAM: processes mapped to berth containers by cgroup id, summed per GPU.
import { describe, expect, it } from "vitest";
import type { ObservedContainer } from "../../platform/observed.ts";
import { attributeGpuMemory } from "./attribute-gpu-memory.ts";
import type { GpuReading } from "./parse-nvidia-smi.ts";

const MIB = 1024 * 1024;
const gpus: GpuReading[] = [
  { index: 0, uuid: "GPU-a", model: "H100" },
  { index: 1, uuid: "GPU-b", model: "H100" },
];

function container(id: string, stack: string, service: string): ObservedContainer {
  return {
    id,
    name: `${stack}-${service}-1`,
    image: "x",
    imageId: "sha256:x",
    labels: { "io.berth.stack": stack, "io.berth.service": service },
    state: "running",
    health: "none",
    created: 0,
    status: "Up",
  };
}

describe("attributeGpuMemory", () => {
  it("sums a service's processes per GPU index and skips processes outside berth containers", () => {
    const containers = [container("c1", "ml", "llm"), container("c2", "ml", "embed")];
    const processes = [
      { pid: 10, processName: "python3", gpuUuid: "GPU-a", usedMemoryBytes: 1000 * MIB },
      { pid: 11, processName: "python3", gpuUuid: "GPU-a", usedMemoryBytes: 500 * MIB },
      { pid: 12, processName: "python3", gpuUuid: "GPU-b", usedMemoryBytes: 200 * MIB },
      { pid: 13, processName: "embed", gpuUuid: "GPU-b", usedMemoryBytes: 300 * MIB },
      { pid: 14, processName: "Xorg", gpuUuid: "GPU-a", usedMemoryBytes: 50 * MIB },
      { pid: 15, processName: "unknown-mem", gpuUuid: "GPU-a" },
    ];
    const byPid = new Map<number, string | undefined>([
      [10, "c1"],
      [11, "c1"],
      [12, "c1"],
      [13, "c2"],
      [14, undefined],
      [15, "c2"],
    ]);

    const rows = attributeGpuMemory(processes, byPid, containers, gpus);

    expect(rows).toEqual([
      { stack: "ml", service: "llm", gpu: "0", bytes: 1500 * MIB },
      { stack: "ml", service: "llm", gpu: "1", bytes: 200 * MIB },
      { stack: "ml", service: "embed", gpu: "1", bytes: 300 * MIB },
    ]);
  });

  it("attributes nothing when the process's container is gone", () => {
    const rows = attributeGpuMemory(
      [{ pid: 1, processName: "p", gpuUuid: "GPU-a", usedMemoryBytes: MIB }],
      new Map([[1, "gone"]]),
      [],
      gpus,
    );

    expect(rows).toEqual([]);
  });
});
