// The VRAM guard of a GPU service's monitor window: each poll reads nvidia-smi and fails the watch
// (VramExceeded, rolled back like any monitor failure) when the service outgrows its VRAM.
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import { assessVram } from "../../metrics/gpu/assess-vram.ts";
import { gpuRequest } from "./gpu-runtime.ts";
import type { StackContext } from "./stack-context.ts";
import type { MonitorWatch } from "./wait-healthy.ts";

/** The watch for a GPU service when the host has a GPU reader; undefined otherwise (nothing to guard). */
export function vramGuard(ctx: Pick<StackContext, "gpu" | "profile">, service: ServiceSpec): MonitorWatch | undefined {
  const reader = ctx.gpu;
  if (!reader || !gpuRequest(service)) return undefined;
  return async (containerId) => {
    const snapshot = await reader.read();
    if (!snapshot) return undefined;
    const verdict = assessVram({ containerId, need: service.gpu, profile: ctx.profile, snapshot });
    return verdict.ok ? undefined : { reason: "VramExceeded", message: verdict.message };
  };
}
