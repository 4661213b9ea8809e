// The BuildKit cache as prune sees it: its size (`docker system df`) and trimming it (`docker builder prune --keep-storage`).
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { runCommand } from "../../platform/run-command.ts";

export type BuildCache = {
  /** Bytes the build cache holds now. */
  usageBytes(signal?: AbortSignal): Promise<number>;
  /** Trims the cache down to `keepBytes`; returns the bytes the engine says it reclaimed. */
  trim(keepBytes: number, signal?: AbortSignal): Promise<number>;
};

/** `env`: the engine selection's `childEnv`, the whole environment of every docker call. */
export function createBuildCache(options: { docker?: string; env?: Readonly<Record<string, string>> } = {}): BuildCache {
  const docker = options.docker ?? "docker";
  const env = options.env ?? processEngineSelection().childEnv;
  return {
    async usageBytes(signal) {
      const { stdout } = await runCommand(docker, ["system", "df", "--format", "{{json .}}"], {
        timeoutMs: 120_000,
        env,
        ...(signal ? { signal } : {}),
      });
      for (const line of stdout.split("\n")) {
        if (!line.trim()) continue;
        const row = JSON.parse(line) as { Type?: string; Size?: string };
        if (row.Type === "Build Cache") return parseHumanBytes(row.Size ?? "0B");
      }
      return 0;
    },
    async trim(keepBytes, signal) {
      const { stdout } = await runCommand(
        docker,
        ["builder", "prune", "--force", "--keep-storage", String(Math.max(0, Math.floor(keepBytes)))],
        {
          timeoutMs: 600_000,
          env,
          ...(signal ? { signal } : {}),
        },
      );
      const match = /Total(?:\s+reclaimed space)?:\s*([\d.]+\s*[kMGTP]?i?B)/i.exec(stdout);
      return match?.[1] ? parseHumanBytes(match[1]) : 0;
    },
  };
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "247.7MB" → 247700000 (the docker CLI prints decimal units). */
export function parseHumanBytes(text: string): number {
  const match = /^\s*([\d.]+)\s*([a-z]*)\s*$/i.exec(text);
  if (!match?.[1]) return 0;
  const unit = UNITS[(match[2] || "b").toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * unit);
}
