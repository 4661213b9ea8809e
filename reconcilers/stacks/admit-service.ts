// Admission before a service's new container starts: a GPU service needs the engine's GPU runtime,
// then the agent's hook (VRAM) decides.
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import { admitGpuRuntime, gpuRequest } from "./gpu-runtime.ts";
import type { Admission, StackContext } from "./stack-context.ts";

export async function admitService(ctx: StackContext, service: ServiceSpec): Promise<Admission> {
  const request = gpuRequest(service);
  if (request) {
    const runtime = admitGpuRuntime((await ctx.engine.engineInfo()).gpu, request);
    if (!runtime.ok) return runtime;
  }
  return (await ctx.admit?.(service)) ?? { ok: true };
}
