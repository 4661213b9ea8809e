import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHostLock, LockBusyError } from "./host-lock.ts";
import type { LockOwner } from "./host-lock.ts";
import { createSharedHostLock } from "./shared-host-lock.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("shared host lock", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("lets swaps overlap each other but never a prune", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-lock-"));
    dirs.push(dir);
    const lock = createSharedHostLock(createHostLock(dir, { pollMs: 5 }));
    const log: string[] = [];
    const swap = (name: string) =>
      lock.shared(name, async () => {
        log.push(`${name} start`);
        await sleep(30);
        log.push(`${name} end`);
      });
    // Arrange: a prune holds the lock when two swaps arrive.
    const prune = lock.exclusive("prune", async () => {
      log.push("prune start");
      await sleep(10);
      log.push("prune end");
    });
    await sleep(5);
    const a = swap("a");
    const b = swap("b");
    await Promise.all([a, b, prune]);
    expect(log).toEqual(["prune start", "prune end", "a start", "b start", "a end", "b end"]);
  });

  it("makes a prune wait until every running swap has finished", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-lock-"));
    dirs.push(dir);
    const lock = createSharedHostLock(createHostLock(dir, { pollMs: 5 }));
    const log: string[] = [];
    const a = lock.shared("a", async () => {
      log.push("a start");
      await sleep(40);
      log.push("a end");
    });
    await sleep(5);
    const b = lock.shared("b", async () => {
      log.push("b start");
      await sleep(10);
      log.push("b end");
    });
    const prune = lock.exclusive("prune", async () => {
      log.push("prune");
    });
    await Promise.all([a, b, prune]);
    expect(log).toEqual(["a start", "b start", "b end", "a end", "prune"]);
  });

  it("gives up a bounded wait with the holder named, after telling once whom it waits for", async () => {
    // Arrange: a prune of another lock instance (as another command would) holds the file
    const dir = await mkdtemp(join(tmpdir(), "berth-lock-"));
    dirs.push(dir);
    let release!: () => void;
    let held!: () => void;
    const pruneHolds = new Promise<void>((r) => (held = r));
    const prune = createSharedHostLock(createHostLock(dir, { pollMs: 5 })).exclusive(
      "prune",
      () => new Promise<void>((r) => ((release = r), held())),
    );
    await pruneHolds;
    const told: Array<LockOwner | undefined> = [];
    const apply = createSharedHostLock(createHostLock(dir, { pollMs: 5 }), { waitMs: 100, onWait: (holder) => void told.push(holder) });

    // Act
    const outcome = await apply.shared("reconcile stack web", async () => "ran").catch((error: unknown) => error);
    release();
    await prune;
    const after = await apply.shared("reconcile stack web", async () => "ran");

    // Assert
    expect(outcome).toBeInstanceOf(LockBusyError);
    expect(outcome).toMatchObject({ holder: { purpose: "prune" } });
    expect(told.map((h) => h?.purpose)).toEqual(["prune"]);
    expect(after).toBe("ran");
  });
});
