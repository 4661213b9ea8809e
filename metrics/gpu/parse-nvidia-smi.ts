// Parsers for `nvidia-smi --query-gpu/--query-compute-apps --format=csv,noheader,nounits` (MiB → bytes).
export type GpuReading = {
  index: number;
  uuid: string;
  model: string;
  /** Bytes; undefined when nvidia-smi reports [N/A] or [Not Supported] (unknown, not zero). */
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
  memoryFreeBytes?: number;
  /** 0..1; undefined when unknown. */
  utilizationRatio?: number;
};

export type GpuProcess = {
  /** Host PID (nvidia-smi reports host PIDs even for containerised processes). */
  pid: number;
  processName: string;
  gpuUuid: string;
  /** Bytes; undefined when unknown (e.g. consumer cards under WDDM). */
  usedMemoryBytes?: number;
};

/** The fields berth asks for, in this order. */
export const GPU_QUERY_FIELDS = ["index", "uuid", "name", "memory.total", "memory.used", "memory.free", "utilization.gpu"] as const;
export const APPS_QUERY_FIELDS = ["pid", "process_name", "used_memory", "gpu_uuid"] as const;

const MIB = 1024 * 1024;

/** A number, or undefined for [N/A], [Not Supported] and anything else that is not a number; units are tolerated. */
export function parseSmiNumber(cell: string | undefined): number | undefined {
  if (cell === undefined) return undefined;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(?:MiB|%|W|C)?\s*$/.exec(cell);
  if (!match) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

function mibToBytes(cell: string | undefined): number | undefined {
  const mib = parseSmiNumber(cell);
  return mib === undefined || mib < 0 ? undefined : Math.round(mib * MIB);
}

function rows(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => line.split(",").map((cell) => cell.trim()));
}

/**
 * Parses `--query-gpu` output whose columns are `fields` (default GPU_QUERY_FIELDS); a header
 * line (plain `--format=csv`) is skipped and units are stripped.
 */
export function parseGpuQuery(text: string, fields: readonly string[] = GPU_QUERY_FIELDS): GpuReading[] {
  const column = (name: string): number => fields.indexOf(name);
  const out: GpuReading[] = [];
  for (const cells of rows(text)) {
    const cell = (name: string): string | undefined => {
      const at = column(name);
      return at < 0 ? undefined : cells[at];
    };
    const index = parseSmiNumber(cell("index"));
    const uuid = cell("uuid");
    if (index === undefined || !Number.isInteger(index) || !uuid) continue;
    const total = mibToBytes(cell("memory.total"));
    const used = mibToBytes(cell("memory.used"));
    const free = mibToBytes(cell("memory.free"));
    const utilization = parseSmiNumber(cell("utilization.gpu"));
    out.push({
      index,
      uuid,
      model: cell("name") ?? "unknown",
      ...(total !== undefined ? { memoryTotalBytes: total } : {}),
      ...(used !== undefined ? { memoryUsedBytes: used } : {}),
      ...(free !== undefined ? { memoryFreeBytes: free } : {}),
      ...(utilization !== undefined && utilization >= 0 ? { utilizationRatio: utilization / 100 } : {}),
    });
  }
  return out;
}

/**
 * Parses `--query-compute-apps=pid,process_name,used_memory,gpu_uuid` output. The process
 * name may itself contain commas, so pid is the first cell and memory and uuid the last two.
 * Empty output (no process) is an empty list.
 */
export function parseComputeApps(text: string): GpuProcess[] {
  const out: GpuProcess[] = [];
  for (const cells of rows(text)) {
    if (cells.length < APPS_QUERY_FIELDS.length) continue;
    const pid = parseSmiNumber(cells[0]);
    const gpuUuid = cells[cells.length - 1];
    if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || !gpuUuid) continue;
    const used = mibToBytes(cells[cells.length - 2]);
    out.push({ pid, processName: cells.slice(1, -2).join(","), gpuUuid, ...(used !== undefined ? { usedMemoryBytes: used } : {}) });
  }
  return out;
}
