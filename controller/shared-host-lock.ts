// Lets builds and swaps share the host lock among themselves (the work queue already keeps
// them apart) while prune holds it alone: the first sharer takes it, the last releases it.
import type { HostLock } from "../status/host-lock.ts";

export type SharedHostLock = {
  /** Runs `fn` as one of possibly many sharers. */
  shared<T>(purpose: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the lock alone (prune). */
  exclusive<T>(purpose: string, fn: () => Promise<T>): Promise<T>;
};

export function createSharedHostLock(lock: HostLock): SharedHostLock {
  let holders = 0;
  let acquiring: Promise<void> | undefined;
  let held: Promise<void> | undefined;
  let release: (() => void) | undefined;

  async function enter(purpose: string): Promise<void> {
    holders += 1;
    if (!acquiring) {
      acquiring = new Promise<void>((acquired, failed) => {
        held = lock.withLock({ purpose }, () => {
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
    async shared(purpose, fn) {
      await enter(purpose);
      try {
        return await fn();
      } finally {
        await leave();
      }
    },
    exclusive(purpose, fn) {
      return lock.withLock({ purpose }, fn);
    },
  };
}
