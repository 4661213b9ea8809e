// The scrape cache: fresh values are reused, slow loads do not hold a scrape, failures age out.
import { describe, expect, it } from "vitest";
import { createCachedReader } from "./cached-reader.ts";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("createCachedReader", () => {
  it("loads once within the ttl, even for concurrent scrapes", async () => {
    let loads = 0;
    let clock = 0;
    const reader = createCachedReader(async () => ++loads, { ttlMs: 1000, waitMs: 100, maxStaleMs: 10_000, now: () => clock });

    const [a, b] = await Promise.all([reader.get(), reader.get()]);
    clock = 900;
    const c = await reader.get();
    clock = 1200;
    const d = await reader.get();

    expect([a, b, c, d]).toEqual([1, 1, 1, 2]);
  });

  it("serves the previous value when a reload takes longer than waitMs, then the new one", async () => {
    let clock = 0;
    let next = deferred<string>();
    const reader = createCachedReader(() => next.promise, { ttlMs: 10, waitMs: 20, maxStaleMs: 10_000, now: () => clock });
    next.resolve("first");
    await reader.get();
    next = deferred<string>();
    clock = 100;

    const during = await reader.get();
    next.resolve("second");
    await new Promise((r) => setTimeout(r, 0));
    const after = await reader.get();

    expect(during).toBe("first");
    expect(after).toBe("second");
  });

  it("forgets a value older than maxStaleMs while the source keeps failing", async () => {
    let clock = 0;
    let fail = false;
    const reader = createCachedReader(
      async () => {
        if (fail) throw new Error("docker down");
        return "ok";
      },
      { ttlMs: 10, waitMs: 50, maxStaleMs: 1000, now: () => clock },
    );
    await reader.get();
    fail = true;

    clock = 500;
    const stale = await reader.get();
    clock = 2000;
    const gone = await reader.get();

    expect(stale).toBe("ok");
    expect(gone).toBeUndefined();
    expect(String(reader.lastError)).toContain("docker down");
  });

  it("reloads after invalidate and accepts primed values", async () => {
    let loads = 0;
    const reader = createCachedReader(async () => `load${++loads}`, { ttlMs: 60_000, waitMs: 100, maxStaleMs: 60_000 });
    reader.set("primed");

    const primed = await reader.get();
    reader.invalidate();
    const reloaded = await reader.get();

    expect(primed).toBe("primed");
    expect(reloaded).toBe("load1");
  });
});
