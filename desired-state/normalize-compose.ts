// Normalises a stack's compose file with `docker compose config --format json`, cached by
// the stack's content (the compose text and the files beside it, e.g. .env), not its path:
// under git-sync every commit is a new directory, and an unchanged stack must cost nothing.
// With a cache dir the results also survive the process (one file per content key), so a
// CLI command on an unchanged stack does not start `docker compose` at all.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { CommandError } from "../platform/run-command.ts";
import type { ComposeCli } from "../platform/compose-cli.ts";

export type ComposeNormalizer = {
  normalize(input: {
    project: string;
    /** The desired-state root: a cached model is moved to a new root (paths outside the stack's folder included). */
    root?: string;
    directory: string;
    file: string;
    text: string;
    /** Digest of the other files beside the compose file (.env, env files) that can change the model. */
    siblingsDigest?: string;
  }): Promise<{ ok: true; model: Record<string, unknown> } | { ok: false; reason: "Rejected" | "TimedOut"; message: string }>;
};

/** How long one `docker compose config` may take once it runs (time waiting for a slot is not counted). */
export const NORMALIZE_TIMEOUT_MS = 30_000;

export type NormalizerOptions = {
  /** Entries kept in memory and on disk (oldest dropped first). */
  maxEntries?: number;
  /**
   * Compose processes at once (default: the CPU count). 400 stacks started at once starve each
   * other past any timeout; a few at a time finish sooner and never time out.
   */
  concurrency?: number;
  /** Directory for the on-disk cache (created on first write); none: memory only. */
  cacheDir?: string;
};

/** `directory`: the root (or directory) the model's paths were resolved against. */
type Entry = { directory: string; json: string };

export function createComposeNormalizer(compose: ComposeCli, options: NormalizerOptions = {}): ComposeNormalizer {
  const maxEntries = options.maxEntries ?? 500;
  const slots = createSlots(options.concurrency ?? availableParallelism());
  const cache = new Map<string, Entry>();
  const disk = options.cacheDir ? diskCache(options.cacheDir, maxEntries) : undefined;
  return {
    async normalize({ project, root, directory, file, text, siblingsDigest = "" }) {
      const base = root ?? directory;
      const key = createHash("sha256").update(project).update("\0").update(text).update("\0").update(siblingsDigest).digest("hex");
      const hit = cache.get(key) ?? (await disk?.get(key));
      if (hit) {
        if (!cache.has(key)) remember(key, hit);
        // The same stack at another path: compose's model differs only in the paths it resolved.
        const json =
          hit.directory === base
            ? hit.json
            : hit.json.split(JSON.stringify(hit.directory).slice(1, -1)).join(JSON.stringify(base).slice(1, -1));
        return { ok: true, model: JSON.parse(json) as Record<string, unknown> };
      }
      const release = await slots.acquire();
      try {
        // Compose runs with the engine selection's minimal environment: the model never depends on the agent's shell.
        const model = await compose.config({ name: project, directory, files: [file] }, { timeoutMs: NORMALIZE_TIMEOUT_MS });
        const entry = { directory: base, json: JSON.stringify(model) };
        remember(key, entry);
        await disk?.put(key, entry);
        return { ok: true, model };
      } catch (error) {
        if (error instanceof CommandError && error.timedOut)
          return { ok: false, reason: "TimedOut", message: `docker compose config did not finish within ${NORMALIZE_TIMEOUT_MS / 1000} s` };
        const message =
          error instanceof CommandError
            ? error.result.stderr.trim() || error.message
            : error instanceof Error
              ? error.message
              : String(error);
        return { ok: false, reason: "Rejected", message: message.replace(/\s+/g, " ").slice(0, 500) };
      } finally {
        release();
      }
    },
  };

  function remember(key: string, entry: Entry): void {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value ?? "");
    cache.set(key, entry);
  }
}

/** One JSON file per key; unreadable, foreign or unwritable files are misses, never errors. */
function diskCache(
  dir: string,
  maxEntries: number,
): { get(key: string): Promise<Entry | undefined>; put(key: string, entry: Entry): Promise<void> } {
  return {
    async get(key) {
      try {
        const parsed = JSON.parse(await readFile(join(dir, `${key}.json`), "utf8")) as Partial<Entry>;
        return typeof parsed.directory === "string" && typeof parsed.json === "string"
          ? { directory: parsed.directory, json: parsed.json }
          : undefined;
      } catch {
        return undefined;
      }
    },
    async put(key, entry) {
      try {
        await mkdir(dir, { recursive: true });
        const file = join(dir, `${key}.json`);
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify(entry));
        await rename(tmp, file);
        await evictOldest(dir, maxEntries);
      } catch {
        // A cache that cannot be written (read-only or foreign state dir) only costs speed.
      }
    },
  };
}

async function evictOldest(dir: string, maxEntries: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  if (names.length <= maxEntries) return;
  const aged = await Promise.all(names.map(async (n) => ({ n, mtime: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  aged.sort((a, b) => a.mtime - b.mtime);
  for (const { n } of aged.slice(0, names.length - maxEntries)) await unlink(join(dir, n)).catch(() => undefined);
}

/** A counting semaphore: at most `count` holders at once, the others wait in order. */
function createSlots(count: number): { acquire(): Promise<() => void> } {
  let free = Math.max(1, count);
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free += 1;
  };
  return {
    acquire() {
      if (free > 0) {
        free -= 1;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => waiting.push(() => resolve(release)));
    },
  };
}
