// Reads GPUs and their compute processes from nvidia-smi (with a timeout) and maps each
// process to its container via /proc/<pid>/cgroup; no nvidia-smi means no GPU readings, quietly.
import { readFile } from "node:fs/promises";
import { runCommand } from "../../platform/run-command.ts";
import type { CommandResult } from "../../platform/run-command.ts";
import { containerIdFromCgroup } from "./container-id-from-cgroup.ts";
import { APPS_QUERY_FIELDS, GPU_QUERY_FIELDS, parseComputeApps, parseGpuQuery } from "./parse-nvidia-smi.ts";
import type { GpuProcess, GpuReading } from "./parse-nvidia-smi.ts";

export type GpuSnapshot = {
  gpus: GpuReading[];
  processes: GpuProcess[];
  /** Host PID → full container id (undefined: not in a container, or already gone). */
  containerIdByPid: Map<number, string | undefined>;
  takenAt: number;
};

export type GpuReader = {
  /** Undefined when this host has no usable nvidia-smi (or it failed this time). */
  read(): Promise<GpuSnapshot | undefined>;
};

export type NvidiaSmiReaderOptions = {
  /** The nvidia-smi executable (default "nvidia-smi" on PATH). */
  command?: string;
  timeoutMs?: number;
  /** After nvidia-smi was found missing, look again only after this long (default 10 min). */
  retryMissingMs?: number;
  readCgroup?: (pid: number) => Promise<string | undefined>;
  /** Told once per distinct problem (missing binary, driver failure, timeout), never per scrape. */
  onProblem?: (message: string) => void;
  now?: () => number;
};

async function procCgroup(pid: number): Promise<string | undefined> {
  return readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => undefined);
}

/**
 * runCommand with a hard deadline of its own: a killed process whose children still hold the
 * pipes (or one stuck in the driver) would otherwise keep the call open past its timeout.
 */
async function smi(command: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${command} timed out after ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  const run = runCommand(command, args, { timeoutMs, signal: abort.signal });
  run.catch(() => undefined);
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function isMissingBinary(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && (error.code === "ENOENT" || error.code === "EACCES");
}

export function createNvidiaSmiReader(options: NvidiaSmiReaderOptions = {}): GpuReader {
  const command = options.command ?? "nvidia-smi";
  const timeoutMs = options.timeoutMs ?? 3000;
  const now = options.now ?? Date.now;
  const readCgroup = options.readCgroup ?? procCgroup;
  let missingUntil = 0;
  let lastProblem = "";

  function problem(message: string): void {
    if (message === lastProblem) return;
    lastProblem = message;
    options.onProblem?.(message);
  }

  return {
    async read() {
      if (now() < missingUntil) return undefined;
      try {
        const gpuOut = await smi(command, [`--query-gpu=${GPU_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"], timeoutMs);
        const appsOut = await smi(
          command,
          [`--query-compute-apps=${APPS_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"],
          timeoutMs,
        );
        const gpus = parseGpuQuery(gpuOut.stdout);
        const processes = parseComputeApps(appsOut.stdout);
        const containerIdByPid = new Map<number, string | undefined>();
        await Promise.all(
          processes.map(async (p) => {
            const text = await readCgroup(p.pid);
            containerIdByPid.set(p.pid, text === undefined ? undefined : containerIdFromCgroup(text));
          }),
        );
        lastProblem = "";
        return { gpus, processes, containerIdByPid, takenAt: now() };
      } catch (error) {
        if (isMissingBinary(error)) {
          missingUntil = now() + (options.retryMissingMs ?? 600_000);
          problem(`${command} not found: GPU metrics are off`);
        } else {
          problem(`${command} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        return undefined;
      }
    },
  };
}
