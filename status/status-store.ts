// The state directory: one JSON file per resource status, intents for swaps in progress,
// written atomically; unreadable files are reported and skipped, never fatal.
import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import type { ResourceStatus } from "./resource-status.ts";
import type { SwapIntent } from "./swap-intent.ts";

export type { SwapIntent };

export type StatusStore = {
  readonly dir: string;
  get(key: string): ResourceStatus | undefined;
  all(): ResourceStatus[];
  put(status: ResourceStatus): Promise<void>;
  remove(key: string): Promise<void>;
  putIntent(intent: SwapIntent): Promise<void>;
  clearIntent(stack: string, service: string): Promise<void>;
  intents(): Promise<SwapIntent[]>;
  /** Problems met while loading (corrupt files), for the log. */
  readonly loadProblems: string[];
};

function fileName(key: string): string {
  return `${encodeURIComponent(key)}.json`;
}

export async function openStatusStore(dir: string): Promise<StatusStore> {
  const statusDir = join(dir, "status");
  const intentDir = join(dir, "intents");
  const cache = new Map<string, ResourceStatus>();
  const loadProblems: string[] = [];
  for (const name of await readdir(statusDir).catch(() => [] as string[])) {
    if (!name.endsWith(".json")) continue;
    try {
      const parsed = JSON.parse(await readFile(join(statusDir, name), "utf8")) as ResourceStatus;
      if (typeof parsed.key !== "string" || !Array.isArray(parsed.conditions)) throw new Error("not a status record");
      cache.set(parsed.key, parsed);
    } catch (error) {
      loadProblems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return {
    dir,
    loadProblems,
    get: (key) => cache.get(key),
    all: () => [...cache.values()],
    async put(status) {
      cache.set(status.key, status);
      await writeFileAtomic(join(statusDir, fileName(status.key)), `${JSON.stringify(status, null, 2)}\n`);
    },
    async remove(key) {
      cache.delete(key);
      await unlink(join(statusDir, fileName(key))).catch(() => undefined);
    },
    async putIntent(intent) {
      await writeFileAtomic(join(intentDir, fileName(`${intent.stack}/${intent.service}`)), JSON.stringify(intent), { durable: true });
    },
    async clearIntent(stack, service) {
      await unlink(join(intentDir, fileName(`${stack}/${service}`))).catch(() => undefined);
    },
    async intents() {
      const out: SwapIntent[] = [];
      for (const name of await readdir(intentDir).catch(() => [] as string[])) {
        if (!name.endsWith(".json")) continue;
        try {
          out.push(JSON.parse(await readFile(join(intentDir, name), "utf8")) as SwapIntent);
        } catch (error) {
          loadProblems.push(`intent ${name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return out;
    },
  };
}
