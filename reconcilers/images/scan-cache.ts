// The state dir's cache of scan results (scan-cache.json): findings per scanner and image id,
// with the scanner's database version and the scan time they were taken with.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { SEVERITIES } from "../../desired-state/scan-schema.ts";
import { writeFileAtomic } from "../../status/atomic-file.ts";
import type { Finding } from "./scan-report.ts";

export type ScanCacheEntry = { dbVersion: string; scannedAt: number; findings: Finding[] };

const entrySchema = z.object({
  dbVersion: z.string(),
  scannedAt: z.number(),
  findings: z.array(z.object({ id: z.string(), severity: z.enum(SEVERITIES), fixed: z.boolean(), pkg: z.string().optional() })),
});
const fileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), entrySchema) });

export type ScanCache = {
  get(command: string, imageId: string): Promise<ScanCacheEntry | undefined>;
  /** Stores one result and drops entries scanned before `dropBefore` (unix ms). */
  put(command: string, imageId: string, entry: ScanCacheEntry, dropBefore: number): Promise<void>;
};

export const SCAN_CACHE_FILE = "scan-cache.json";

/** The key of one result in the cache file (and in `readScanCache`'s map). */
export function scanCacheKey(command: string, imageId: string): string {
  return `${command} ${imageId}`;
}

/** Every cached result by `scanCacheKey`; an unreadable or foreign cache file counts as empty. */
export function readScanCache(stateDir: string): Promise<Map<string, ScanCacheEntry>> {
  return readFile(join(stateDir, SCAN_CACHE_FILE), "utf8")
    .then((text) => new Map(Object.entries(fileSchema.parse(JSON.parse(text)).entries)))
    .catch(() => new Map<string, ScanCacheEntry>());
}

/** An unreadable or foreign cache file counts as empty: the images are scanned again. */
export function openScanCache(stateDir: string): ScanCache {
  const path = join(stateDir, SCAN_CACHE_FILE);
  let loaded: Promise<Map<string, ScanCacheEntry>> | undefined;
  const entries = (): Promise<Map<string, ScanCacheEntry>> => (loaded ??= readScanCache(stateDir));
  const keyOf = scanCacheKey;
  return {
    async get(command, imageId) {
      return (await entries()).get(keyOf(command, imageId));
    },
    async put(command, imageId, entry, dropBefore) {
      const map = await entries();
      // Results another gate or berth process wrote since this one read the file are kept.
      for (const [key, other] of await readScanCache(stateDir)) if (!map.has(key)) map.set(key, other);
      map.set(keyOf(command, imageId), entry);
      for (const [key, old] of map) if (old.scannedAt < dropBefore) map.delete(key);
      await writeFileAtomic(path, JSON.stringify({ version: 1, entries: Object.fromEntries(map) }));
    },
  };
}
