// The real nvidia-smi output of an H100 host (test/fixtures/nvidia-smi), read as the tests use it.
import { readFileSync } from "node:fs";
import { parseGpuQuery } from "../../metrics/gpu/parse-nvidia-smi.ts";
import type { GpuReading } from "../../metrics/gpu/parse-nvidia-smi.ts";

/** The fields the fixtures' `--query-gpu` runs asked for, in their column order. */
export const H100_QUERY_FIELDS: readonly string[] = [
  "index",
  "uuid",
  "name",
  "memory.total",
  "memory.used",
  "memory.free",
  "utilization.gpu",
  "utilization.memory",
  "temperature.gpu",
  "power.draw",
  "driver_version",
];

/** One fixture file's text, e.g. `query-gpu-busy.csv`. */
export function nvidiaSmiFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/nvidia-smi/${name}`, import.meta.url), "utf8");
}

/** The GPUs of a `--query-gpu` fixture (`query-gpu-idle.csv`, `query-gpu-busy.csv`). */
export function h100Gpus(name: string): GpuReading[] {
  return parseGpuQuery(nvidiaSmiFixture(name), H100_QUERY_FIELDS);
}
