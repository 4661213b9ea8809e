// What `GET /info` says about GPUs on this engine: its runtimes, CDI spec dirs and the CDI devices it
// discovered (Engine API 1.48+; absent before), read with a lenient schema.
import { z } from "zod";

export type EngineGpuFacts = {
  runtimes: string[];
  cdiSpecDirs: string[];
  /** CDI device names the engine discovered (e.g. nvidia.com/gpu=0); undefined when the engine does not report them. */
  cdiDevices?: string[];
};

const gpuInfoSchema = z.looseObject({
  Runtimes: z.record(z.string(), z.unknown()).nullish(),
  CDISpecDirs: z.array(z.string()).nullish(),
  DiscoveredDevices: z.array(z.looseObject({ Source: z.string().default(""), ID: z.string().default("") })).nullish(),
});

export function engineGpuFacts(info: unknown): EngineGpuFacts {
  const parsed = gpuInfoSchema.safeParse(info);
  const data = parsed.success ? parsed.data : {};
  return {
    runtimes: Object.keys(data.Runtimes ?? {}).sort(),
    cdiSpecDirs: data.CDISpecDirs ?? [],
    ...(data.DiscoveredDevices ? { cdiDevices: data.DiscoveredDevices.filter((d) => d.Source === "cdi").map((d) => d.ID) } : {}),
  };
}
