// GET /info → runtimes, CDI spec dirs and discovered CDI devices, leniently.
import { describe, expect, it } from "vitest";
import { engineGpuFacts } from "./engine-gpu-facts.ts";

describe("engineGpuFacts", () => {
  it("reads an engine with the NVIDIA toolkit (runtime and CDI devices, API 1.48+)", () => {
    const info = {
      ServerVersion: "28.0.1",
      Runtimes: { runc: { path: "runc" }, nvidia: { path: "nvidia-container-runtime" }, "io.containerd.runc.v2": { path: "runc" } },
      CDISpecDirs: ["/etc/cdi", "/var/run/cdi"],
      DiscoveredDevices: [
        { Source: "cdi", ID: "nvidia.com/gpu=0" },
        { Source: "other", ID: "x" },
      ],
    };
    expect(engineGpuFacts(info)).toEqual({
      runtimes: ["io.containerd.runc.v2", "nvidia", "runc"],
      cdiSpecDirs: ["/etc/cdi", "/var/run/cdi"],
      cdiDevices: ["nvidia.com/gpu=0"],
    });
  });

  it("reads an older engine without CDI fields, and tolerates nulls and junk", () => {
    expect(engineGpuFacts({ Runtimes: { runc: {} }, CDISpecDirs: null })).toEqual({ runtimes: ["runc"], cdiSpecDirs: [] });
    expect(engineGpuFacts({ Runtimes: "weird" })).toEqual({ runtimes: [], cdiSpecDirs: [] });
    expect(engineGpuFacts(undefined)).toEqual({ runtimes: [], cdiSpecDirs: [] });
  });
});
