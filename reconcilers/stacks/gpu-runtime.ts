// Which services need a GPU, and whether this engine can give them one (pure): an engine with no
// NVIDIA runtime and no CDI GPU device runs no GPU service (Waiting/NoGpuRuntime, naming what is missing).
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import type { EngineGpuFacts } from "../../platform/engine-gpu-facts.ts";
import type { Admission } from "./stack-context.ts";

/** How a service asks for a GPU; `cdi` when it names CDI devices (nvidia.com/gpu=…), which CDI alone can satisfy. */
export type GpuRequest = { via: string; cdi: boolean };

const CDI_GPU = /^nvidia\.com\/gpu(=|$)/;

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.flat().filter((v): v is string => typeof v === "string") : [];
}

/** The service's GPU request: `x-berth.gpu`, a GPU device reservation, compose `gpus:` or CDI GPU `devices:`; undefined for none. */
export function gpuRequest(service: Pick<ServiceSpec, "gpu" | "config">): GpuRequest | undefined {
  const deploy = service.config["deploy"] as { resources?: { reservations?: { devices?: unknown } } } | undefined;
  const reserved = records(deploy?.resources?.reservations?.devices).filter(
    (d) =>
      d["driver"] === "nvidia" || strings(d["capabilities"]).includes("gpu") || strings(d["device_ids"]).some((id) => CDI_GPU.test(id)),
  );
  const cdiDevices = [...strings(service.config["devices"]), ...records(service.config["devices"]).map((d) => String(d["source"]))].filter(
    (d) => CDI_GPU.test(d),
  );
  const gpus = service.config["gpus"];
  if (reserved.length > 0)
    return {
      via: "deploy.resources.reservations.devices",
      cdi: reserved.every((d) => strings(d["device_ids"]).some((id) => CDI_GPU.test(id))),
    };
  if (gpus !== undefined && gpus !== null && !(Array.isArray(gpus) && gpus.length === 0)) return { via: "gpus", cdi: false };
  if (cdiDevices.length > 0) return { via: "devices", cdi: true };
  if (service.gpu) return { via: "x-berth.gpu", cdi: false };
  return undefined;
}

/** Whether the engine can run a container with this GPU request; if not, what is missing. */
export function admitGpuRuntime(facts: EngineGpuFacts, request: GpuRequest): Admission {
  if (facts.runtimes.some((r) => /nvidia/i.test(r))) return { ok: true };
  if (facts.cdiDevices?.some((d) => CDI_GPU.test(d))) return { ok: true };
  // Engines before API 1.48 do not list CDI devices: a request by CDI name is left to the engine when CDI is on.
  if (facts.cdiDevices === undefined && request.cdi && facts.cdiSpecDirs.length > 0) return { ok: true };
  const runtimes = facts.runtimes.length > 0 ? facts.runtimes.join(", ") : "none";
  const cdi =
    facts.cdiDevices === undefined
      ? `no CDI device list (CDI spec dirs: ${facts.cdiSpecDirs.join(", ") || "none"})`
      : `no CDI GPU device (discovered: ${facts.cdiDevices.join(", ") || "none"}; spec dirs: ${facts.cdiSpecDirs.join(", ") || "none"})`;
  return {
    ok: false,
    reason: "NoGpuRuntime",
    message:
      `asks for a GPU (${request.via}) but this engine has no "nvidia" runtime (runtimes: ${runtimes}) and ${cdi}; ` +
      "install the NVIDIA Container Toolkit (nvidia-ctk runtime configure, or nvidia-ctk cdi generate)",
  };
}
