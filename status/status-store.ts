// The state directory: one JSON file per resource status, intents for swaps in progress,
// written atomically; unreadable files are reported and skipped, never fatal.
import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import { finalizeStatus } from "./finalize-status.ts";
import { formatKey, parseKey } from "./resource-key.ts";
import type { KeyOf, ResourceKey } from "./resource-key.ts";
import type { ResourceStatus, StatusKind, StatusOf } from "./resource-status.ts";
import type { SwapIntent } from "./swap-intent.ts";

export type { SwapIntent };

export type StatusStore = {
  readonly dir: string;
  /** The record of a typed key, narrowed to its kind; or of a key's text form (any kind). */
  get<K extends StatusKind>(key: KeyOf<K>): StatusOf<K> | undefined;
  get(key: string): ResourceStatus | undefined;
  all(): ResourceStatus[];
  /** Writes the record as its kind's `finalizeStatus` makes it; a key that does not name the record's kind is refused. */
  put(status: ResourceStatus): Promise<void>;
  remove(key: KeyOf<StatusKind> | string): Promise<void>;
  putIntent(intent: SwapIntent): Promise<void>;
  clearIntent(stack: string, service: string): Promise<void>;
  intents(): Promise<SwapIntent[]>;
  /** Problems met while loading (corrupt files), for the log. */
  readonly loadProblems: string[];
};

function fileName(key: string): string {
  return `${encodeURIComponent(key)}.json`;
}

/** The record of a typed key in records keyed by text (e.g. `berth plan`'s snapshot of the store), narrowed to its kind. */
export function statusIn<K extends StatusKind>(statuses: ReadonlyMap<string, ResourceStatus>, key: KeyOf<K>): StatusOf<K> | undefined {
  const typed: ResourceKey = key;
  const found = statuses.get(formatKey(typed));
  return found?.kind === typed.kind ? (found as StatusOf<K>) : undefined;
}

function keyText(key: ResourceKey | string): string {
  return typeof key === "string" ? key : formatKey(key);
}

/**
 * A record as read from disk, in today's shape: state dirs written before records carried their
 * kind get it from the key, and an image's failed build names its input hash (it was `specHash`).
 */
export function upgradeStatus(raw: unknown): ResourceStatus {
  const record = raw as Partial<ResourceStatus> & { key?: unknown; conditions?: unknown };
  if (typeof record.key !== "string" || !Array.isArray(record.conditions)) throw new Error("not a status record");
  const kind = parseKey(record.key)?.kind;
  if (kind !== "image" && kind !== "service" && kind !== "stack" && kind !== "source" && kind !== "prune")
    throw new Error(`key "${record.key}" names no status kind`);
  if (record.kind !== undefined && record.kind !== kind) throw new Error(`kind "${record.kind}" does not match key "${record.key}"`);
  const failed = (record as { failed?: { specHash?: string; inputHash?: string } }).failed;
  if (kind === "image" && failed?.specHash !== undefined && failed.inputHash === undefined) {
    const { specHash, ...rest } = failed;
    return finalizeStatus({ ...record, kind, failed: { ...rest, inputHash: specHash } } as ResourceStatus);
  }
  return finalizeStatus({ ...record, kind } as ResourceStatus);
}

export async function openStatusStore(dir: string): Promise<StatusStore> {
  const statusDir = join(dir, "status");
  const intentDir = join(dir, "intents");
  const cache = new Map<string, ResourceStatus>();
  const loadProblems: string[] = [];
  for (const name of await readdir(statusDir).catch(() => [] as string[])) {
    if (!name.endsWith(".json")) continue;
    try {
      const parsed = upgradeStatus(JSON.parse(await readFile(join(statusDir, name), "utf8")));
      cache.set(parsed.key, parsed);
    } catch (error) {
      loadProblems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  function get<K extends StatusKind>(key: KeyOf<K>): StatusOf<K> | undefined;
  function get(key: string): ResourceStatus | undefined;
  function get(key: ResourceKey | string): ResourceStatus | undefined {
    return cache.get(keyText(key));
  }
  return {
    dir,
    loadProblems,
    get,
    all: () => [...cache.values()],
    async put(status) {
      if (parseKey(status.key)?.kind !== status.kind) throw new Error(`status key "${status.key}" does not name a ${status.kind}`);
      const record = finalizeStatus(status);
      cache.set(record.key, record);
      await writeFileAtomic(join(statusDir, fileName(record.key)), `${JSON.stringify(record, null, 2)}\n`);
    },
    async remove(key) {
      const text = keyText(key);
      cache.delete(text);
      await unlink(join(statusDir, fileName(text))).catch(() => undefined);
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
