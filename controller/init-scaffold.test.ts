import { describe, expect, it } from "vitest";
import { h100Gpus } from "../test/support/nvidia-smi-fixtures.ts";
import { hostProfile, machineName, scaffoldFiles } from "./init-scaffold.ts";

// Real nvidia-smi output of an H100 host.
const h100 = h100Gpus("query-gpu-idle.csv");

describe("berth init scaffold", () => {
  it("makes a valid machine name of any hostname", () => {
    expect(machineName("GPU-Box_01.lab")).toBe("gpu-box_01.lab");
    expect(machineName("--weird host!")).toBe("weird-host-");
    expect(machineName("")).toBe("this-host");
  });

  it("writes the CPU count into the profile, and no GPU variables without GPUs", () => {
    expect(hostProfile({ hostname: "h", cpus: 2, gpus: [] })).toEqual({ CPU_COUNT: "2", OMP_NUM_THREADS: "2" });
  });

  it("names the GPUs nvidia-smi reports in the profile and the machine entry", () => {
    const files = scaffoldFiles({ hostname: "dgx1", cpus: 64, gpus: h100 });
    expect(JSON.parse(files["profiles/dgx1.json"] ?? "{}")).toEqual({
      CPU_COUNT: "64",
      OMP_NUM_THREADS: "64",
      GPU_VISIBLE_DEVICES: "0",
      GPU_MODEL: "NVIDIA H100 80GB HBM3",
    });
    expect(files["berth.yaml"]).toContain('  dgx1: { profile: dgx1, hostnames: ["dgx1"], gpus: 1 }');
  });

  it("builds the example from busybox unless told another base", () => {
    expect(scaffoldFiles({ hostname: "h", cpus: 1, gpus: [] })["stacks/hello/app/Dockerfile"]).toContain("FROM busybox:1.36\n");
    const files = scaffoldFiles({ hostname: "h", cpus: 1, gpus: [] }, { stack: "demo", base: "berth-test/busybox:1" });
    expect(files["stacks/demo/app/Dockerfile"]).toContain("FROM berth-test/busybox:1\n");
    expect(files["stacks/demo/compose.yaml"]).toContain("  demo:\n    build: ./app\n");
  });
});
