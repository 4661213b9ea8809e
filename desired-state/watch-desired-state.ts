// Watches the desired-state root (a directory or a git-sync style symlink) and calls back once per burst of changes.
import { createHash } from "node:crypto";
import { watch as watchNode } from "node:fs";
import type { FSWatcher as FSWatcherOfNode } from "node:fs";
import { lstat, readdir, realpath } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { watch } from "chokidar";
import type { FSWatcher } from "chokidar";
import type { Logger } from "../platform/logger.ts";
import { silentLogger } from "../platform/logger.ts";

export type WatchDesiredStateOptions = {
  /**
   * Quiet time before the callback fires. 100 ms by default: a `git checkout` writes its files
   * within a few ms of each other, and a symlink swap is one event, so 100 ms still folds a burst
   * into one call while keeping swap → callback latency near 100 ms.
   */
  debounceMs?: number;
  /** A steady stream of events still fires at least this often (default 10 × debounce, ≥ 1 s). */
  maxWaitMs?: number;
  /** Re-resolve the link and re-fingerprint the tree this often, to catch missed events (default 30). */
  rescanSeconds?: number;
  logger?: Logger;
};

export type DesiredStateWatch = {
  /** Resolves once the watchers are in place (events before this may be missed, the rescan catches them). */
  ready: Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_DEBOUNCE_MS = 100;
export const DEFAULT_RESCAN_SECONDS = 30;
/** A desired-state tree is small; past this many entries the rescan fingerprint stops walking. */
const MAX_FINGERPRINT_ENTRIES = 20_000;

/** The real path behind `dir`: read every file of one pass under it so the pass sees one commit. */
export async function resolvePublished(dir: string): Promise<string> {
  return realpath(dir);
}

export function watchDesiredState(dir: string, onChange: () => void, options: WatchDesiredStateOptions = {}): DesiredStateWatch {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const maxWaitMs = options.maxWaitMs ?? Math.max(debounceMs * 10, 1000);
  const rescanMs = (options.rescanSeconds ?? DEFAULT_RESCAN_SECONDS) * 1000;
  const logger = options.logger ?? silentLogger();
  const linkPath = resolve(dir);
  const parent = dirname(linkPath);
  const linkName = basename(linkPath);

  let closed = false;
  let target: string | undefined;
  let content: FSWatcher | undefined;
  let fingerprint: string | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;
  let burstStartedAt: number | undefined;
  let refreshChain: Promise<void> = Promise.resolve();

  function schedule(): void {
    if (closed) return;
    const now = Date.now();
    burstStartedAt ??= now;
    if (debounceTimer) clearTimeout(debounceTimer);
    const delay = Math.max(0, Math.min(debounceMs, burstStartedAt + maxWaitMs - now));
    debounceTimer = setTimeout(fire, delay);
  }

  function fire(): void {
    debounceTimer = undefined;
    burstStartedAt = undefined;
    if (closed) return;
    try {
      onChange();
    } catch (error) {
      logger.error({ error: error instanceof Error ? error.message : String(error) }, "desired-state change handler threw");
    }
    // Remember what the callback saw, so the periodic rescan only fires for changes the watcher missed.
    const seen = target;
    if (seen)
      void fingerprintTree(seen).then((value) => {
        if (target === seen) fingerprint = value;
      });
  }

  async function watchContent(path: string): Promise<FSWatcher> {
    const watcher = watch(path, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (candidate: string) => isInsideGitDir(path, candidate),
    });
    watcher.on("all", () => schedule());
    watcher.on("error", (error) =>
      logger.warn(
        { path, error: error instanceof Error ? error.message : String(error) },
        "desired-state watcher error; relying on the periodic rescan",
      ),
    );
    await new Promise<void>((done) => watcher.once("ready", () => done()));
    return watcher;
  }

  /** Re-resolves the link; when its target moved, re-points the content watcher and schedules a callback. */
  async function refreshNow(): Promise<boolean> {
    if (closed) return false;
    const next = await realpath(linkPath).catch(() => undefined);
    if (next === target) return false;
    const previous = target;
    target = next;
    await content?.close();
    content = undefined;
    if (next !== undefined && !closed) content = await watchContent(next);
    fingerprint = next === undefined ? undefined : await fingerprintTree(next);
    if (closed) await content?.close();
    logger.info({ dir: linkPath, from: previous, to: next }, "desired-state root now resolves to a new path");
    return true;
  }

  function refresh(): Promise<boolean> {
    const run = refreshChain.then(refreshNow);
    refreshChain = run.then(
      () => undefined,
      (error: unknown) =>
        logger.warn(
          { dir: linkPath, error: error instanceof Error ? error.message : String(error) },
          "could not re-resolve the desired-state root",
        ),
    );
    return run.catch(() => false);
  }

  async function rescan(): Promise<void> {
    if (await refresh()) return schedule();
    const current = target;
    if (current === undefined || closed) return;
    const value = await fingerprintTree(current);
    if (current !== target || value === fingerprint) return;
    fingerprint = value;
    logger.info({ dir: linkPath }, "periodic rescan found changes the watcher missed");
    schedule();
  }

  // The link's parent, for the link name only: a swap is a rename onto the name, not an event inside the tree.
  // fs.watch filtered by name, not chokidar: chokidar re-reads and lstat()s the whole parent on every change
  // in it, which cost an idle agent 4 % of a core with a busy /tmp as the parent (docs/decisions.md).
  let linkWatcher: FSWatcherOfNode | undefined;
  try {
    linkWatcher = watchNode(parent, (_event, name) => {
      if (name !== null && String(name) !== linkName) return;
      void refresh().then((moved) => {
        if (moved) schedule();
      });
    });
    linkWatcher.on("error", (error) =>
      logger.warn({ path: parent, error: error.message }, "desired-state link watcher error; relying on the periodic rescan"),
    );
  } catch (error) {
    logger.warn(
      { path: parent, error: error instanceof Error ? error.message : String(error) },
      "desired-state link watcher error; relying on the periodic rescan",
    );
  }

  const rescanTimer = setInterval(() => void rescan(), rescanMs);
  rescanTimer.unref();

  const ready = refresh().then(() => undefined);

  return {
    ready,
    async close() {
      closed = true;
      clearInterval(rescanTimer);
      if (debounceTimer) clearTimeout(debounceTimer);
      await ready.catch(() => undefined);
      await refreshChain;
      linkWatcher?.close();
      await content?.close();
    },
  };
}

function isInsideGitDir(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== "" && rel.split(sep).includes(".git");
}

/** (path, size, mtime, mode) of every entry under `root` except `.git`, hashed: cheap change detection. */
async function fingerprintTree(root: string): Promise<string> {
  const hash = createHash("sha256");
  let count = 0;
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const name of entries.sort()) {
      if (name === ".git" || count >= MAX_FINGERPRINT_ENTRIES) continue;
      count += 1;
      const path = join(dir, name);
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      hash.update(`${relative(root, path)}\0${info.size}\0${info.mtimeMs}\0${info.mode}\n`);
      if (info.isDirectory()) await walk(path);
    }
  }
  await walk(root);
  return hash.digest("hex");
}
