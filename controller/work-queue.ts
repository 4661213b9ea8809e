// The keyed, deduplicating work queue of the agent (controller-runtime's shape): a key is
// queued at most once, never processed twice at once, retried with exponential backoff, and
// not retried after a terminal error until it is added again by a change. Each key runs through
// the reconciler of its kind (reconcilers/reconciler.ts).
import type { Clock } from "../platform/clock.ts";
import { reconcileKey } from "../reconcilers/reconciler.ts";
import type { Outcome, ReconcilerMap, WorkKey, WorkKind } from "../reconcilers/reconciler.ts";
import { formatKey } from "../status/resource-key.ts";

/** A failed outcome: what the queue does with it is `retryInMs` (undefined: terminal, no retry). */
export type Failure = Exclude<Outcome, { kind: "done" }>;

export type WorkQueueOptions = {
  clock: Clock;
  /** Total keys processed at once. */
  concurrency: number;
  /** Keys of one kind processed at once (e.g. stack: 4); kinds without a limit share `concurrency`. */
  classLimits?: Partial<Record<WorkKind, number>>;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** 0..1: the fraction of a backoff that is randomised. */
  jitter?: number;
  random?: () => number;
  onError?: (key: WorkKey, failure: Failure, retryInMs: number | undefined) => void;
};

export type WorkQueue = {
  add(key: WorkKey): void;
  addAfter(key: WorkKey, delayMs: number): void;
  /** Keys waiting, processing, and failure counts (for status and tests). */
  snapshot(): { queued: string[]; processing: string[]; failures: Record<string, number> };
  /** Resolves when nothing is queued, processing or scheduled soon (within `horizonMs`). */
  idle(horizonMs?: number): Promise<void>;
  shutdown(timeoutMs: number): Promise<{ interrupted: string[] }>;
};

export function createWorkQueue(reconcilers: ReconcilerMap, options: WorkQueueOptions): WorkQueue {
  /** Keys by their text form (the queue's identity of a key). */
  const keys = new Map<string, WorkKey>();
  const queued: string[] = [];
  const queuedSet = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const classCounts = new Map<string, number>();
  const abort = new AbortController();
  const idleWaiters: Array<{ horizonMs: number; resolve: () => void }> = [];
  const running = new Set<Promise<void>>();
  let stopped = false;
  const classOf = (text: string): string => keys.get(text)?.kind ?? text;
  const base = options.baseBackoffMs ?? 1000;
  const max = options.maxBackoffMs ?? 300_000;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;

  function add(work: WorkKey): void {
    if (stopped) return;
    const key = formatKey(work);
    keys.set(key, work);
    const scheduled = timers.get(key);
    if (scheduled) {
      clearTimeout(scheduled.timer);
      timers.delete(key);
    }
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queuedSet.has(key)) return;
    queuedSet.add(key);
    queued.push(key);
    pump();
  }

  function addAfter(work: WorkKey, delayMs: number): void {
    if (stopped) return;
    if (delayMs <= 0) return add(work);
    const key = formatKey(work);
    keys.set(key, work);
    const at = options.clock.now() + delayMs;
    const existing = timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(work);
    }, delayMs);
    timer.unref?.();
    timers.set(key, { at, timer });
  }

  function canStart(key: string): boolean {
    if (processing.has(key)) return false;
    const cls = classOf(key);
    const limit = options.classLimits?.[cls as WorkKind];
    return limit === undefined || (classCounts.get(cls) ?? 0) < limit;
  }

  function pump(): void {
    while (!stopped && processing.size < options.concurrency) {
      const index = queued.findIndex(canStart);
      if (index < 0) break;
      const [key] = queued.splice(index, 1);
      if (key === undefined) break;
      queuedSet.delete(key);
      start(key);
    }
    checkIdle();
  }

  function start(key: string): void {
    const work = keys.get(key);
    if (!work) return;
    processing.add(key);
    const cls = classOf(key);
    classCounts.set(cls, (classCounts.get(cls) ?? 0) + 1);
    const run = (async () => {
      try {
        const outcome = await reconcileKey(reconcilers, work, abort.signal);
        if (outcome.kind === "done") {
          failures.delete(key);
          if (outcome.requeueAfterMs !== undefined) addAfter(work, outcome.requeueAfterMs);
        } else if (outcome.kind === "terminal") {
          failures.delete(key);
          options.onError?.(work, outcome, undefined);
        } else {
          const count = (failures.get(key) ?? 0) + 1;
          failures.set(key, count);
          const delay = backoffMs(count);
          options.onError?.(work, outcome, delay);
          addAfter(work, delay);
        }
      } finally {
        processing.delete(key);
        classCounts.set(cls, (classCounts.get(cls) ?? 1) - 1);
        if (dirty.delete(key)) add(work);
        pump();
      }
    })();
    running.add(run);
    void run.finally(() => running.delete(run));
  }

  function backoffMs(count: number): number {
    const raw = Math.min(max, base * 2 ** (count - 1));
    return Math.round(raw * (1 - jitter + jitter * random()));
  }

  function isIdle(horizonMs: number): boolean {
    const soon = options.clock.now() + horizonMs;
    return queued.length === 0 && processing.size === 0 && [...timers.values()].every((t) => t.at > soon);
  }

  function checkIdle(): void {
    for (const waiter of [...idleWaiters]) {
      if (isIdle(waiter.horizonMs)) {
        idleWaiters.splice(idleWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  return {
    add,
    addAfter,
    snapshot: () => ({ queued: [...queued], processing: [...processing], failures: Object.fromEntries(failures) }),
    idle(horizonMs = 0) {
      if (isIdle(horizonMs)) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push({ horizonMs, resolve }));
    },
    async shutdown(timeoutMs) {
      stopped = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      queued.length = 0;
      queuedSet.clear();
      const inFlight = [...processing];
      const finished = Promise.all([...running]).then(() => true);
      const timedOut = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref?.();
      });
      const done = await Promise.race([finished, timedOut]);
      if (!done) abort.abort();
      return { interrupted: done ? [] : inFlight };
    },
  };
}
