// The VRAM guard's decision on the real H100 readings (test/fixtures/nvidia-smi): the python3
// process holding 7044 MiB of the GPU's 7053 MiB used (of 81559 MiB) runs in the watched container.
import { describe, expect, it } from "vitest";
import { nvidiaSmiFixture } from "../../test/support/nvidia-smi-fixtures.ts";
import { assessVram } from "./assess-vram.ts";
import { parseComputeApps, parseGpuQuery } from "./parse-nvidia-smi.ts";

const FIELDS = ["index", "uuid", "name", "memory.total", "memory.used", "memory.free", "utilization.gpu"];
const ID = "a".repeat(64);
const busy = {
  gpus: parseGpuQuery(nvidiaSmiFixture("query-gpu-busy.csv"), FIELDS),
  processes: parseComputeApps(nvidiaSmiFixture("query-apps-busy.csv")),
  containerIdByPid: new Map<number, string | undefined>([[425, ID]]),
};

describe("assessVram", () => {
  it("keeps a service within its vramMiB under the profile's 90 % threshold", () => {
    expect(assessVram({ containerId: ID, need: { vramMiB: 8000 }, profile: { MODEL_EVICT_THRESHOLD_PCT: "90" }, snapshot: busy })).toEqual({
      ok: true,
    });
  });

  it("flags a service using more than its vramMiB, with the numbers", () => {
    expect(assessVram({ containerId: ID, need: { vramMiB: 4096 }, profile: {}, snapshot: busy })).toEqual({
      ok: false,
      message: "uses 7044 MiB of VRAM on GPU 0, more than its vramMiB 4096",
    });
  });

  it("flags the GPU the service uses when its used memory passes MODEL_EVICT_THRESHOLD_PCT", () => {
    expect(assessVram({ containerId: ID, need: undefined, profile: { MODEL_EVICT_THRESHOLD_PCT: "5" }, snapshot: busy })).toEqual({
      ok: false,
      message: "GPU 0 holds 7053 of 81559 MiB (8.6%), above MODEL_EVICT_THRESHOLD_PCT=5",
    });
  });

  it("does not charge a service for another container's processes or a GPU it does not use", () => {
    const other = { ...busy, containerIdByPid: new Map<number, string | undefined>([[425, "b".repeat(64)]]) };
    expect(assessVram({ containerId: ID, need: { vramMiB: 1 }, profile: { MODEL_EVICT_THRESHOLD_PCT: "5" }, snapshot: other })).toEqual({
      ok: true,
    });
    const idle = {
      gpus: parseGpuQuery(nvidiaSmiFixture("query-gpu-idle.csv"), ["index", "uuid", "name", "memory.total", "memory.used", "memory.free"]),
      processes: parseComputeApps(nvidiaSmiFixture("query-apps-idle.csv")),
      containerIdByPid: new Map<number, string | undefined>(),
    };
    expect(assessVram({ containerId: ID, need: { vramMiB: 1 }, profile: {}, snapshot: idle })).toEqual({ ok: true });
  });
});
