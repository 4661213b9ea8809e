// Parser tests on real nvidia-smi output from an H100 80GB (test/fixtures/nvidia-smi).
import { describe, expect, it } from "vitest";
import { H100_QUERY_FIELDS, nvidiaSmiFixture } from "../../test/support/nvidia-smi-fixtures.ts";
import { parseComputeApps, parseGpuQuery, parseSmiNumber } from "./parse-nvidia-smi.ts";

const MIB = 1024 * 1024;
const UUID = "GPU-4663cca1-d80b-cd9b-ca38-5bd693744d0b";

describe("parseGpuQuery", () => {
  it("reads an idle H100 in bytes", () => {
    const gpus = parseGpuQuery(nvidiaSmiFixture("query-gpu-idle.csv"), H100_QUERY_FIELDS);

    expect(gpus).toEqual([
      {
        index: 0,
        uuid: UUID,
        model: "NVIDIA H100 80GB HBM3",
        memoryTotalBytes: 81559 * MIB,
        memoryUsedBytes: 0,
        memoryFreeBytes: 81079 * MIB,
        utilizationRatio: 0,
      },
    ]);
  });

  it("reads the busy H100 holding about 7 GiB", () => {
    const [gpu] = parseGpuQuery(nvidiaSmiFixture("query-gpu-busy.csv"), H100_QUERY_FIELDS);

    expect(gpu?.memoryUsedBytes).toBe(7053 * MIB);
    expect(gpu?.memoryFreeBytes).toBe(74027 * MIB);
  });

  it("skips the header and strips units of the plain csv format", () => {
    const gpus = parseGpuQuery(nvidiaSmiFixture("query-gpu-idle-header.csv"));

    expect(gpus).toHaveLength(1);
    expect(gpus[0]?.memoryTotalBytes).toBe(81559 * MIB);
    expect(gpus[0]?.utilizationRatio).toBe(0);
  });

  it("treats [N/A] and [Not Supported] as unknown, not zero", () => {
    const text = "0, GPU-aaaa, NVIDIA GeForce RTX 3090, 24576, [N/A], [Not Supported], [N/A]\n";

    const [gpu] = parseGpuQuery(text);

    expect(gpu).toEqual({ index: 0, uuid: "GPU-aaaa", model: "NVIDIA GeForce RTX 3090", memoryTotalBytes: 24576 * MIB });
  });

  it("returns no GPUs for empty or garbage output", () => {
    expect(parseGpuQuery("")).toEqual([]);
    expect(parseGpuQuery("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")).toEqual([]);
  });
});

describe("parseComputeApps", () => {
  it("reads the python3 process holding 7044 MiB", () => {
    expect(parseComputeApps(nvidiaSmiFixture("query-apps-busy.csv"))).toEqual([
      { pid: 425, processName: "python3", usedMemoryBytes: 7044 * MIB, gpuUuid: UUID },
    ]);
  });

  it("reads the empty output of an idle GPU as no process", () => {
    expect(parseComputeApps(nvidiaSmiFixture("query-apps-idle.csv"))).toEqual([]);
  });

  it("keeps commas inside a process name and leaves unknown memory out", () => {
    const text = "77, /opt/app/run,server --x, [N/A], GPU-bbbb\n";

    expect(parseComputeApps(text)).toEqual([{ pid: 77, processName: "/opt/app/run,server --x", gpuUuid: "GPU-bbbb" }]);
  });
});

describe("parseSmiNumber", () => {
  it("reads numbers with or without units and refuses the rest", () => {
    expect(parseSmiNumber(" 116.92 ")).toBe(116.92);
    expect(parseSmiNumber("81559 MiB")).toBe(81559);
    expect(parseSmiNumber("[Unknown Error]")).toBeUndefined();
    expect(parseSmiNumber(undefined)).toBeUndefined();
  });
});
