// The host lock port every reconciler takes: builds and swaps of one process share one hold of the
// state dir's lock file (the work queue already keeps them apart) while prune holds it alone; another
// process (agent, `berth apply`, `berth build`, `berth prune`) waits for it either way.
import { createHostLock } from "./host-lock.ts";
import type { AcquireOptions, HostLock } from "./host-lock.ts";

/** How an acquisition waits: bound (`waitMs`), abort, and who is told it waits (`onWait`). */
export type LockWait = Omit<AcquireOptions, "purpose">;

export type SharedHostLock = {
  /** The lock file. */
  readonly path: string;
  /** Runs `fn` as one of possibly many sharers (a build or a swap). */
  shared<T>(purpose: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the lock alone (prune); `wait` overrides the lock's defaults. */
  exclusive<T>(purpose: string, fn: () => Promise<T>, wait?: LockWait): Promise<T>;
};

/** `defaults` apply to every acquisition: a CLI bounds its wait, the agent logs it. */
export function createSharedHostLock(lock: HostLock, defaults: LockWait = {}): SharedHostLock {
  let holders = 0;
  let acquiring: Promise<void> | undefined;
  let held: Promise<void> | undefined;
  let release: (() => void) | undefined;

  async function enter(purpose: string): Promise<void> {
    holders += 1;
    if (!acquiring) {
      acquiring = new Promise<void>((acquired, failed) => {
        held = lock.withLock({ ...defaults, purpose }, () => {
          acquired();
          return new Promise<void>((resolve) => (release = resolve));
        });
        held.catch(failed);
      });
    }
    try {
      await acquiring;
    } catch (error) {
      holders -= 1;
      if (holders === 0) acquiring = held = release = undefined;
      throw error;
    }
  }

  async function leave(): Promise<void> {
    holders -= 1;
    if (holders > 0) return;
    const done = release;
    const whole = held;
    acquiring = held = release = undefined;
    done?.();
    await whole;
  }

  return {
    path: lock.path,
    async shared(purpose, fn) {
      await enter(purpose);
      try {
        return await fn();
      } finally {
        await leave();
      }
    },
    exclusive(purpose, fn, wait = {}) {
      return lock.withLock({ ...defaults, ...wait, purpose }, fn);
    },
  };
}

/** A new shared lock over `stateDir`'s lock file (one per process and state dir; callers pass it on). */
export function openSharedHostLock(stateDir: string, defaults: LockWait = {}): SharedHostLock {
  return createSharedHostLock(createHostLock(stateDir), defaults);
}
