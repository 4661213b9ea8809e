import { describe, expect, it } from "vitest";
import { systemClock } from "../platform/clock.ts";
import { createWorkQueue, TerminalError } from "./work-queue.ts";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("work queue", () => {
  it("processes a key added many times while queued only once", async () => {
    const seen: string[] = [];
    const gate = deferred();
    const queue = createWorkQueue(
      async (key) => {
        if (key === "block") await gate.promise;
        seen.push(key);
      },
      { clock: systemClock, concurrency: 1 },
    );
    queue.add("block");
    queue.add("stack/web");
    queue.add("stack/web");
    queue.add("stack/web");
    gate.resolve();
    await queue.idle();
    expect(seen).toEqual(["block", "stack/web"]);
  });

  it("never runs the same key twice at once, and reruns it once when it changed meanwhile", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const gate = deferred();
    const queue = createWorkQueue(
      async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs += 1;
        if (runs === 1) await gate.promise;
        active -= 1;
      },
      { clock: systemClock, concurrency: 4 },
    );
    queue.add("stack/web");
    await new Promise((r) => setTimeout(r, 5));
    queue.add("stack/web");
    queue.add("stack/web");
    gate.resolve();
    await queue.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it("runs one build at a time while stacks run in parallel", async () => {
    const active = new Map<string, number>();
    const peak = new Map<string, number>();
    const queue = createWorkQueue(
      async (key) => {
        const cls = key.split("/")[0] ?? "";
        active.set(cls, (active.get(cls) ?? 0) + 1);
        peak.set(cls, Math.max(peak.get(cls) ?? 0, active.get(cls) ?? 0));
        await new Promise((r) => setTimeout(r, 10));
        active.set(cls, (active.get(cls) ?? 1) - 1);
      },
      { clock: systemClock, concurrency: 4, classLimits: { images: 1 }, classOf: (key) => key.split("/")[0] ?? "" },
    );
    for (const key of ["images/a", "images/b", "images/c", "stack/x", "stack/y", "stack/z"]) queue.add(key);
    await queue.idle();
    expect(peak.get("images")).toBe(1);
    expect(peak.get("stack")).toBeGreaterThan(1);
  });

  it("retries a failing key with growing backoff, then forgets the failures after a success", async () => {
    const times: number[] = [];
    const queue = createWorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length < 3) throw new Error("engine hiccup");
      },
      { clock: systemClock, concurrency: 1, baseBackoffMs: 20, jitter: 0 },
    );
    queue.add("stack/web");
    while (times.length < 3) await new Promise((r) => setTimeout(r, 5));
    await queue.idle();
    const [t0 = 0, t1 = 0, t2 = 0] = times;
    expect(t1 - t0).toBeGreaterThanOrEqual(18);
    expect(t2 - t1).toBeGreaterThanOrEqual(38);
    expect(queue.snapshot().failures).toEqual({});
  });

  it("does not retry a terminal error", async () => {
    let runs = 0;
    const errors: Array<number | undefined> = [];
    const queue = createWorkQueue(
      async () => {
        runs += 1;
        throw new TerminalError("InvalidDesiredState", "fix berth.yaml");
      },
      { clock: systemClock, concurrency: 1, baseBackoffMs: 5, onError: (_k, _e, retry) => errors.push(retry) },
    );
    queue.add("stack/web");
    await queue.idle(1000);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(1);
    expect(errors).toEqual([undefined]);
  });

  it("lets the current step finish on shutdown and takes no new work", async () => {
    const gate = deferred();
    const seen: string[] = [];
    const queue = createWorkQueue(
      async (key) => {
        if (key === "first") await gate.promise;
        seen.push(key);
      },
      { clock: systemClock, concurrency: 1 },
    );
    queue.add("first");
    queue.add("second");
    const shutdown = queue.shutdown(1000);
    queue.add("third");
    gate.resolve();
    expect(await shutdown).toEqual({ interrupted: [] });
    expect(seen).toEqual(["first"]);
  });
});
