// The host lock builds, swaps and prune share: an in-process async mutex plus a pid lock file in the
// state dir, so a `berth prune` run and a running agent on the same state dir never overlap. Each
// process creates its own instance per state dir and passes it on (no registry of locks here).
import { mkdir, open, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export const LOCK_FILE = "berth.lock";

/** `started`: the holder process's start (performance.timeOrigin), telling it apart from an earlier process with the same pid. */
export type LockOwner = { pid: number; hostname: string; purpose: string; since: number; token: string; started?: number };

export type AcquireOptions = {
  /** What the holder does ("prune", "build images/app", "swap web/api"), shown to waiters. */
  purpose: string;
  /** Give up after this long (default: wait forever). */
  waitMs?: number;
  signal?: AbortSignal;
  /** Called once when the lock is busy, with who holds it. */
  onWait?: (holder: LockOwner | undefined) => void;
};

export type HostLock = {
  readonly path: string;
  /** Runs `fn` holding the lock; waits (in-process first, then on the file) for it. Not re-entrant. */
  withLock<T>(options: AcquireOptions, fn: () => Promise<T>): Promise<T>;
  /** Who holds the file lock now, if anyone (for status output). */
  holder(): Promise<LockOwner | undefined>;
};

export class LockBusyError extends Error {
  readonly holder: LockOwner | undefined;
  constructor(path: string, holder: LockOwner | undefined) {
    super(
      holder
        ? `${path} is held by pid ${holder.pid} on ${holder.hostname} (${holder.purpose}) since ${new Date(holder.since).toISOString()}`
        : `${path} is held`,
    );
    this.name = "LockBusyError";
    this.holder = holder;
  }
}

const POLL_MS = 100;
/** A takeover marker older than this was left by a process that died mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;
/** This process's start: a lock file naming our pid with another start was left by an earlier process (a container's pid 1). */
const PROCESS_STARTED = performance.timeOrigin;

export function createHostLock(stateDir: string, options: { isAlive?: (pid: number) => boolean; pollMs?: number } = {}): HostLock {
  const path = join(stateDir, LOCK_FILE);
  const isAlive = options.isAlive ?? pidAlive;
  const pollMs = options.pollMs ?? POLL_MS;
  let tail: Promise<void> = Promise.resolve();

  async function acquireFile(acquire: AcquireOptions, deadline: number): Promise<LockOwner> {
    await mkdir(stateDir, { recursive: true });
    const me: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      purpose: acquire.purpose,
      since: Date.now(),
      token: randomBytes(8).toString("hex"),
      started: PROCESS_STARTED,
    };
    let told = false;
    for (;;) {
      acquire.signal?.throwIfAborted();
      if (await tryCreate(path, { ...me, since: Date.now() })) return me;
      const holder = await readOwner(path);
      if (holder === "gone") continue;
      if ((holder === undefined || isStale(holder, isAlive)) && (await takeOver(path, holder))) continue;
      if (!told) {
        told = true;
        acquire.onWait?.(holder);
      }
      if (Date.now() >= deadline) throw new LockBusyError(path, holder);
      await delay(Math.min(pollMs, Math.max(1, deadline - Date.now())), acquire.signal);
    }
  }

  return {
    path,
    async withLock(acquire, fn) {
      const deadline = acquire.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + acquire.waitMs;
      // In-process: a FIFO chain of promises; each holder releases the next.
      const previous = tail;
      let release!: () => void;
      tail = new Promise<void>((resolve) => (release = resolve));
      try {
        await raceDeadline(previous, deadline, acquire, path);
        const owner = await acquireFile(acquire, deadline);
        try {
          return await fn();
        } finally {
          await releaseFile(path, owner);
        }
      } finally {
        release();
      }
    },
    async holder() {
      const owner = await readOwner(path);
      return owner === "gone" ? undefined : owner;
    },
  };
}

async function raceDeadline(previous: Promise<void>, deadline: number, acquire: AcquireOptions, path: string): Promise<void> {
  if (deadline === Number.POSITIVE_INFINITY && !acquire.signal) return previous;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        if (deadline !== Number.POSITIVE_INFINITY)
          timer = setTimeout(() => reject(new LockBusyError(path, undefined)), Math.max(0, deadline - Date.now()));
        onAbort = () => reject(acquire.signal?.reason);
        acquire.signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) acquire.signal?.removeEventListener("abort", onAbort);
  }
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** The holder, `undefined` when the file is unreadable (torn or foreign), "gone" when it vanished. */
async function readOwner(path: string): Promise<LockOwner | undefined | "gone"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "gone";
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === "number" && typeof parsed.token === "string") {
      return {
        pid: parsed.pid,
        hostname: parsed.hostname ?? "",
        purpose: parsed.purpose ?? "unknown",
        since: parsed.since ?? 0,
        token: parsed.token,
        ...(typeof parsed.started === "number" ? { started: parsed.started } : {}),
      };
    }
  } catch {
    // fall through: a writer may be between open and write; treated as stale only once it is old (see takeOver)
  }
  return undefined;
}

function isStale(holder: LockOwner, isAlive: (pid: number) => boolean): boolean {
  // A lock from another host (shared state dir) cannot be checked: never taken over.
  if (holder.hostname !== hostname()) return false;
  // Another holder in this process (one lock instance per process and state dir is the rule, tests make more) is alive.
  if (holder.pid === process.pid) return holder.started !== PROCESS_STARTED;
  return !isAlive(holder.pid);
}

/**
 * Removes a stale lock file. Only the process that creates the takeover marker (mkdir is atomic)
 * may remove it, and only after re-reading that the file still holds the same stale owner.
 */
async function takeOver(path: string, stale: LockOwner | undefined): Promise<boolean> {
  const marker = `${path}.takeover`;
  try {
    await mkdir(marker);
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    const age = await stat(marker).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > TAKEOVER_STALE_MS) await rmdir(marker).catch(() => undefined);
    return false;
  }
  try {
    const now = await readOwner(path);
    if (now === "gone") return true;
    if (stale === undefined) {
      // Unreadable: give a writer between open and write a moment before calling it stale.
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (now !== undefined || age < 2_000) return false;
    } else if (now === undefined || now.token !== stale.token) return false;
    const aside = `${path}.stale-${randomBytes(4).toString("hex")}`;
    await rename(path, aside);
    await unlink(aside).catch(() => undefined);
    return true;
  } finally {
    await rmdir(marker).catch(() => undefined);
  }
}

async function releaseFile(path: string, owner: LockOwner): Promise<void> {
  const now = await readOwner(path).catch(() => undefined);
  if (now !== "gone" && now?.token === owner.token) await unlink(path).catch(() => undefined);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
