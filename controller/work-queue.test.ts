import { describe, expect, it } from "vitest";
import { systemClock } from "../platform/clock.ts";
import { done, terminal } from "../reconcilers/reconciler.ts";
import type { Outcome, ReconcilerMap, WorkKey } from "../reconcilers/reconciler.ts";
import { formatKey } from "../status/resource-key.ts";
import { createWorkQueue } from "./work-queue.ts";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The same reconcile for every kind, seeing keys in their text form. */
function everyKind(reconcile: (key: string) => Promise<Outcome | void>): ReconcilerMap {
  const one = { reconcile: async (key: WorkKey): Promise<Outcome> => (await reconcile(formatKey(key))) ?? done() };
  return { git: one, source: one, images: one, stack: one, prune: one };
}

const web: WorkKey = { kind: "stack", name: "web" };

describe("work queue", () => {
  it("processes a key added many times while queued only once", async () => {
    const seen: string[] = [];
    const gate = deferred();
    const queue = createWorkQueue(
      everyKind(async (key) => {
        if (key === "git") await gate.promise;
        seen.push(key);
      }),
      { clock: systemClock, concurrency: 1 },
    );
    queue.add({ kind: "git" });
    queue.add(web);
    queue.add({ kind: "stack", name: "web" });
    queue.add(web);
    gate.resolve();
    await queue.idle();
    expect(seen).toEqual(["git", "stack/web"]);
  });

  it("never runs the same key twice at once, and reruns it once when it changed meanwhile", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const gate = deferred();
    const queue = createWorkQueue(
      everyKind(async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs += 1;
        if (runs === 1) await gate.promise;
        active -= 1;
      }),
      { clock: systemClock, concurrency: 4 },
    );
    queue.add(web);
    await new Promise((r) => setTimeout(r, 5));
    queue.add(web);
    queue.add(web);
    gate.resolve();
    await queue.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it("runs at most a kind's limit of its keys at once while other kinds run beside them", async () => {
    const active = new Map<string, number>();
    const peak = new Map<string, number>();
    let total = 0;
    let peakTotal = 0;
    const queue = createWorkQueue(
      everyKind(async (key) => {
        const cls = key.split("/")[0] ?? "";
        active.set(cls, (active.get(cls) ?? 0) + 1);
        peak.set(cls, Math.max(peak.get(cls) ?? 0, active.get(cls) ?? 0));
        peakTotal = Math.max(peakTotal, (total += 1));
        await new Promise((r) => setTimeout(r, 10));
        active.set(cls, (active.get(cls) ?? 1) - 1);
        total -= 1;
      }),
      { clock: systemClock, concurrency: 4, classLimits: { stack: 1 } },
    );
    for (const name of ["a", "b", "c"]) queue.add({ kind: "stack", name });
    for (const key of [{ kind: "git" }, { kind: "source" }, { kind: "images" }] as const) queue.add(key);
    await queue.idle();
    expect(peak.get("stack")).toBe(1);
    expect(peakTotal).toBe(4);
  });

  it("retries a failing key with growing backoff, then forgets the failures after a success", async () => {
    const times: number[] = [];
    const queue = createWorkQueue(
      everyKind(async () => {
        times.push(Date.now());
        if (times.length < 3) throw new Error("engine hiccup");
      }),
      { clock: systemClock, concurrency: 1, baseBackoffMs: 20, jitter: 0 },
    );
    queue.add(web);
    while (times.length < 3) await new Promise((r) => setTimeout(r, 5));
    await queue.idle();
    const [t0 = 0, t1 = 0, t2 = 0] = times;
    expect(t1 - t0).toBeGreaterThanOrEqual(18);
    expect(t2 - t1).toBeGreaterThanOrEqual(38);
    expect(queue.snapshot().failures).toEqual({});
  });

  it("does not retry a terminal outcome", async () => {
    let runs = 0;
    const errors: Array<number | undefined> = [];
    const queue = createWorkQueue(
      everyKind(async () => {
        runs += 1;
        return terminal("InvalidDesiredState", "fix berth.yaml");
      }),
      { clock: systemClock, concurrency: 1, baseBackoffMs: 5, onError: (_k, _e, retry) => errors.push(retry) },
    );
    queue.add(web);
    await queue.idle(1000);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(1);
    expect(errors).toEqual([undefined]);
  });

  it("looks at a key again after the delay its outcome asks for", async () => {
    const times: number[] = [];
    const queue = createWorkQueue(
      everyKind(async () => {
        times.push(Date.now());
        return times.length === 1 ? done(false, 30) : done();
      }),
      { clock: systemClock, concurrency: 1 },
    );
    queue.add(web);
    while (times.length < 2) await new Promise((r) => setTimeout(r, 5));
    await queue.idle();
    expect(times).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(28);
    expect(queue.snapshot().failures).toEqual({});
  });

  it("lets the current step finish on shutdown and takes no new work", async () => {
    const gate = deferred();
    const seen: string[] = [];
    const queue = createWorkQueue(
      everyKind(async (key) => {
        if (key === "git") await gate.promise;
        seen.push(key);
      }),
      { clock: systemClock, concurrency: 1 },
    );
    queue.add({ kind: "git" });
    queue.add({ kind: "source" });
    const shutdown = queue.shutdown(1000);
    queue.add({ kind: "images" });
    gate.resolve();
    expect(await shutdown).toEqual({ interrupted: [] });
    expect(seen).toEqual(["git"]);
  });
});
