// Keeps valid desired-state loads across CLI processes (one JSON file per key in the state dir's
// cache), keyed by everything the load read: the code that loaded it, the environment compose ran
// with, and a fingerprint of every entry under the root (path, size, times, inode, mode) with the
// git HEAD it names. A warm `berth validate` or no-op `berth apply` then parses no YAML at all.
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, realpath, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { LoadResult } from "../desired-state/load-desired-state.ts";

/** A desired-state tree is small; past this many entries (a data folder inside a stack) nothing is cached. */
const MAX_ENTRIES = 5_000;
/** Loads kept; the oldest are dropped. */
const MAX_KEPT = 16;

export type DesiredStateCacheKey = {
  /** Identity of the loading code (a bundle's content); none: nothing is cached (sources change under tsx). */
  code: string | undefined;
  /** What else the load depends on, e.g. the environment `docker compose config` runs with. */
  environment: string;
};

/** `load` runs when nothing is cached for `dir` as it is now; a valid result is kept for the next process. */
export async function cachedDesiredState(
  dir: string,
  cacheDir: string,
  key: DesiredStateCacheKey,
  load: () => Promise<LoadResult>,
): Promise<LoadResult> {
  const digest = key.code === undefined ? undefined : await treeKey(dir, key.code, key.environment);
  const file = digest === undefined ? undefined : join(cacheDir, `${digest}.json`);
  if (file) {
    const hit = await readFile(file, "utf8").then(
      (text) => JSON.parse(text) as LoadResult,
      () => undefined,
    );
    if (hit?.ok === true) return hit;
  }
  const result = await load();
  if (file && result.ok) await keep(cacheDir, file, result);
  return result;
}

async function keep(cacheDir: string, file: string, result: LoadResult): Promise<void> {
  try {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(result));
    await rename(tmp, file);
    const names = (await readdir(cacheDir)).filter((n) => n.endsWith(".json"));
    if (names.length <= MAX_KEPT) return;
    const aged = await Promise.all(
      names.map(async (n) => ({ n, at: (await stat(join(cacheDir, n)).catch(() => undefined))?.mtimeMs ?? 0 })),
    );
    aged.sort((a, b) => a.at - b.at);
    for (const { n } of aged.slice(0, names.length - MAX_KEPT)) await unlink(join(cacheDir, n)).catch(() => undefined);
  } catch {
    // A cache that cannot be written (read-only or foreign state dir) only costs speed.
  }
}

/** The key of `dir` as it is now; undefined when it cannot be told cheaply and surely (too large, a git worktree file). */
async function treeKey(dir: string, code: string, environment: string): Promise<string | undefined> {
  const root = await realpath(dir).catch(() => undefined);
  if (root === undefined) return undefined;
  const hash = createHash("sha256").update(code).update("\0").update(environment).update("\0").update(root).update("\0");
  const head = await gitHead(root);
  if (head === undefined) return undefined;
  hash.update(head).update("\0");
  let count = 0;
  async function walk(path: string): Promise<boolean> {
    const names = (await readdir(path)).sort();
    for (const name of names) {
      if (path === root && name === ".git") continue;
      count += 1;
      if (count > MAX_ENTRIES) return false;
      const entry = join(path, name);
      const info = await lstat(entry);
      hash.update(`${relative(root ?? "", entry)}\0${info.size}\0${info.mtimeMs}\0${info.ctimeMs}\0${info.ino}\0${info.mode}\n`);
      if (info.isDirectory() && !(await walk(entry))) return false;
    }
    return true;
  }
  const complete = await walk(root).catch(() => false);
  return complete ? hash.digest("hex") : undefined;
}

/** The commit a checkout at `root` names ("" without `.git`); undefined when it cannot be read plainly. */
async function gitHead(root: string): Promise<string | undefined> {
  const gitDir = join(root, ".git");
  const info = await lstat(gitDir).catch(() => undefined);
  if (!info) return "";
  if (!info.isDirectory()) return undefined;
  const head = await readFile(join(gitDir, "HEAD"), "utf8").catch(() => undefined);
  if (head === undefined) return undefined;
  const ref = /^ref: (refs\/\S+)\s*$/.exec(head)?.[1];
  if (!ref) return head.trim();
  const loose = await readFile(join(gitDir, ref), "utf8").catch(() => undefined);
  const packed = loose === undefined ? await readFile(join(gitDir, "packed-refs"), "utf8").catch(() => "") : "";
  return `${ref}\0${loose ?? packed}`;
}
