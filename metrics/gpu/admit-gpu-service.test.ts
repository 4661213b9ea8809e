// VRAM admission from fixture-driven readings: fits, does not fit, threshold, no GPU, unknown memory.
import { describe, expect, it } from "vitest";
import { admitGpuService, evictThresholdRatio } from "./admit-gpu-service.ts";
import { parseGpuQuery } from "./parse-nvidia-smi.ts";
import { h100Gpus } from "../../test/support/nvidia-smi-fixtures.ts";

describe("admitGpuService", () => {
  it("admits a 20 GiB model on the busy H100 (74027 MiB free)", () => {
    expect(admitGpuService({ vramMiB: 20480 }, h100Gpus("query-gpu-busy.csv"), { MODEL_EVICT_THRESHOLD_PCT: "90" })).toEqual({ ok: true });
  });

  it("refuses a 70 GiB model when the profile's 90 % threshold leaves less room than free memory", () => {
    // 81559 * 0.9 - 7053 = 66350 MiB usable, although 74027 MiB are free.
    const result = admitGpuService({ vramMiB: 70000 }, h100Gpus("query-gpu-busy.csv"), { MODEL_EVICT_THRESHOLD_PCT: "90" });

    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ reason: "InsufficientVRAM" });
    expect(!result.ok && result.message).toContain("needs 70000 MiB");
    expect(!result.ok && result.message).toContain("74027 MiB free of 81559 MiB");
    expect(!result.ok && result.message).toContain("66350 MiB usable under 90%");
  });

  it("admits the same model without a threshold in the profile (free memory only)", () => {
    expect(admitGpuService({ vramMiB: 70000 }, h100Gpus("query-gpu-busy.csv"), {})).toEqual({ ok: true });
  });

  it("refuses more memory than the GPU has free", () => {
    expect(admitGpuService({ vramMiB: 80000 }, h100Gpus("query-gpu-busy.csv"), {})).toMatchObject({
      ok: false,
      reason: "InsufficientVRAM",
    });
  });

  it("refuses when the host has fewer GPUs than the service asks for", () => {
    expect(admitGpuService({ count: 2, vramMiB: 1024 }, h100Gpus("query-gpu-idle.csv"), {})).toMatchObject({
      ok: false,
      reason: "NoGpu",
      message: "needs 2 GPUs, this host has 1",
    });
  });

  it("refuses with NoGpu when nvidia-smi gave no readings", () => {
    expect(admitGpuService({ vramMiB: 1024 }, undefined, {})).toMatchObject({ ok: false, reason: "NoGpu" });
  });

  it("admits on count alone when the card does not report memory", () => {
    const unknown = parseGpuQuery("0, GPU-x, Some Card, [N/A], [N/A], [N/A], [N/A]\n");

    expect(admitGpuService({ vramMiB: 1024 }, unknown, { MODEL_EVICT_THRESHOLD_PCT: "90" })).toEqual({ ok: true });
  });
});

describe("evictThresholdRatio", () => {
  it("reads a percentage and ignores nonsense", () => {
    expect(evictThresholdRatio({ MODEL_EVICT_THRESHOLD_PCT: "85" })).toBe(0.85);
    expect(evictThresholdRatio({ MODEL_EVICT_THRESHOLD_PCT: "85%" })).toBeUndefined();
    expect(evictThresholdRatio({ MODEL_EVICT_THRESHOLD_PCT: "0" })).toBeUndefined();
    expect(evictThresholdRatio(undefined)).toBeUndefined();
  });
});
