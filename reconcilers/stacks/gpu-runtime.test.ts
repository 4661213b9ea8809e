// Which services ask for a GPU, and whether an engine's runtimes and CDI devices can serve them.
import { describe, expect, it } from "vitest";
import { admitGpuRuntime, gpuRequest } from "./gpu-runtime.ts";

const THIS_ENGINE = { runtimes: ["io.containerd.runc.v2", "runc"], cdiSpecDirs: [] };

describe("gpuRequest", () => {
  it("finds x-berth.gpu, a GPU device reservation, compose gpus: and CDI GPU devices", () => {
    expect(gpuRequest({ gpu: { vramMiB: 8000 }, config: {} })).toEqual({ via: "x-berth.gpu", cdi: false });
    const reservation = (device: Record<string, unknown>) => ({ deploy: { resources: { reservations: { devices: [device] } } } });
    expect(gpuRequest({ config: reservation({ driver: "nvidia", count: 1 }) })).toEqual({
      via: "deploy.resources.reservations.devices",
      cdi: false,
    });
    expect(gpuRequest({ config: reservation({ capabilities: ["gpu"] }) })?.via).toBe("deploy.resources.reservations.devices");
    expect(gpuRequest({ config: reservation({ driver: "cdi", device_ids: ["nvidia.com/gpu=all"] }) })).toEqual({
      via: "deploy.resources.reservations.devices",
      cdi: true,
    });
    expect(gpuRequest({ config: { gpus: [{ count: -1 }] } })).toEqual({ via: "gpus", cdi: false });
    expect(gpuRequest({ config: { gpus: "all" } })).toEqual({ via: "gpus", cdi: false });
    expect(gpuRequest({ config: { devices: [{ source: "nvidia.com/gpu=0", target: "nvidia.com/gpu=0" }] } })).toEqual({
      via: "devices",
      cdi: true,
    });
  });

  it("leaves plain services and non-GPU devices alone", () => {
    expect(gpuRequest({ config: { image: "nginx" } })).toBeUndefined();
    expect(gpuRequest({ config: { devices: ["/dev/ttyUSB0:/dev/ttyUSB0"], gpus: [] } })).toBeUndefined();
    expect(gpuRequest({ config: { deploy: { resources: { reservations: { devices: [{ capabilities: ["tpu"] }] } } } } })).toBeUndefined();
  });
});

describe("admitGpuRuntime", () => {
  it("refuses a GPU service on an engine with runc only, naming the runtimes and the missing CDI devices", () => {
    const result = admitGpuRuntime(THIS_ENGINE, { via: "x-berth.gpu", cdi: false });
    expect(result).toMatchObject({ ok: false, reason: "NoGpuRuntime" });
    expect(!result.ok && result.message).toContain('no "nvidia" runtime (runtimes: io.containerd.runc.v2, runc)');
    expect(!result.ok && result.message).toContain("no CDI device list (CDI spec dirs: none)");
    expect(!result.ok && result.message).toContain("asks for a GPU (x-berth.gpu)");
  });

  it("admits on an nvidia runtime or a discovered CDI GPU", () => {
    expect(admitGpuRuntime({ ...THIS_ENGINE, runtimes: ["nvidia", "runc"] }, { via: "gpus", cdi: false })).toEqual({ ok: true });
    const cdi = { ...THIS_ENGINE, cdiSpecDirs: ["/etc/cdi"], cdiDevices: ["nvidia.com/gpu=0", "nvidia.com/gpu=all"] };
    expect(admitGpuRuntime(cdi, { via: "x-berth.gpu", cdi: false })).toEqual({ ok: true });
  });

  it("refuses when the engine lists CDI devices but none is a GPU", () => {
    const result = admitGpuRuntime(
      { ...THIS_ENGINE, cdiSpecDirs: ["/etc/cdi"], cdiDevices: ["vendor.com/fpga=0"] },
      { via: "gpus", cdi: false },
    );
    expect(!result.ok && result.message).toContain("no CDI GPU device (discovered: vendor.com/fpga=0; spec dirs: /etc/cdi)");
  });

  it("leaves a request by CDI name to an engine with CDI on that does not list its devices (before API 1.48)", () => {
    const older = { ...THIS_ENGINE, cdiSpecDirs: ["/etc/cdi", "/var/run/cdi"] };
    expect(admitGpuRuntime(older, { via: "devices", cdi: true })).toEqual({ ok: true });
    expect(admitGpuRuntime(older, { via: "x-berth.gpu", cdi: false })).toMatchObject({ ok: false, reason: "NoGpuRuntime" });
  });
});
