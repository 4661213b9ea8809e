// Behaviour of the host lock: in-process mutual exclusion, a second process waits on the pid file, stale locks are taken over.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHostLock, LOCK_FILE, LockBusyError } from "./host-lock.ts";

const MODULE = resolve(import.meta.dirname, "host-lock.ts");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts another node process that takes the lock and holds it until told to exit (by closing stdin). */
function holdInChild(stateDir: string): Promise<{ pid: number; release: () => Promise<void>; kill: () => Promise<void> }> {
  const script = `import { createHostLock } from ${JSON.stringify(MODULE)};
await createHostLock(${JSON.stringify(stateDir)}).withLock({ purpose: "child build" }, async () => {
  process.stdout.write("held\\n");
  await new Promise((r) => process.stdin.on("end", r).resume());
});`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return new Promise((ready, fail) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("held"))
        ready({
          pid: child.pid ?? -1,
          release: async () => (child.stdin.end(), await exited),
          kill: async () => (child.kill("SIGKILL"), await exited),
        });
    });
    child.once("exit", (code) => fail(new Error(`child exited ${code} before holding the lock`)));
  });
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((done) => child.once("exit", done));
  return child.pid ?? 999_999;
}

describe("host lock", () => {
  it("runs in-process holders one at a time, in arrival order", async () => {
    // Arrange
    const lock = createHostLock(dir);
    const events: string[] = [];
    const job = (name: string) => async () => {
      events.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 20));
      events.push(`${name}:end`);
    };

    // Act
    await Promise.all([
      lock.withLock({ purpose: "build" }, job("build")),
      lock.withLock({ purpose: "swap" }, job("swap")),
      lock.withLock({ purpose: "prune" }, job("prune")),
    ]);

    // Assert
    expect(events).toEqual(["build:start", "build:end", "swap:start", "swap:end", "prune:start", "prune:end"]);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("releases the lock when the holder throws", async () => {
    // Arrange
    const lock = createHostLock(dir);

    // Act
    await expect(lock.withLock({ purpose: "build" }, async () => Promise.reject(new Error("build failed")))).rejects.toThrow(
      "build failed",
    );
    const after = await lock.withLock({ purpose: "prune" }, async () => "ran");

    // Assert
    expect(after).toBe("ran");
  });

  it("makes another process wait for the lock file, naming the holder, and lets it in once released", async () => {
    // Arrange
    const child = await holdInChild(dir);
    const lock = createHostLock(dir, { pollMs: 20 });

    try {
      // Act
      const busy = await lock.withLock({ purpose: "prune", waitMs: 300 }, async () => "ran").catch((error: unknown) => error);
      let waitedFor: number | undefined;
      const later = lock.withLock({ purpose: "prune", waitMs: 20_000, onWait: (holder) => (waitedFor = holder?.pid) }, async () => "ran");
      await new Promise((r) => setTimeout(r, 100));
      await child.release();

      // Assert
      expect(busy).toBeInstanceOf(LockBusyError);
      expect((busy as LockBusyError).holder?.purpose).toBe("child build");
      expect(await later).toBe("ran");
      expect(waitedFor).toBe(child.pid);
    } finally {
      await child.kill();
    }
  }, 30_000);

  it("takes over the lock of a process that was killed while holding it", async () => {
    // Arrange
    const child = await holdInChild(dir);
    await child.kill();
    const leftBehind = JSON.parse(await readFile(join(dir, LOCK_FILE), "utf8")) as { pid: number };

    // Act
    const result = await createHostLock(dir).withLock(
      { purpose: "prune", waitMs: 2_000 },
      async () => JSON.parse(await readFile(join(dir, LOCK_FILE), "utf8")) as { pid: number },
    );

    // Assert
    expect(leftBehind.pid).toBe(child.pid);
    expect(result.pid).toBe(process.pid);
  }, 30_000);

  it("takes over a lock file naming a dead pid, but never one from another host", async () => {
    // Arrange
    const stale = { pid: await deadPid(), hostname: hostname(), purpose: "swap", since: 0, token: "old" };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(stale));
    const lock = createHostLock(dir, { pollMs: 20 });

    // Act
    const first = await lock.withLock({ purpose: "prune", waitMs: 1_000 }, async () => "ran");
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ ...stale, hostname: "some-other-host" }));
    const second = await lock.withLock({ purpose: "prune", waitMs: 200 }, async () => "ran").catch((error: unknown) => error);

    // Assert
    expect(first).toBe("ran");
    expect(second).toBeInstanceOf(LockBusyError);
  });

  it("takes over a lock file an earlier process with this pid left, but waits for another lock instance of this process", async () => {
    // Arrange: a file naming this pid from another process start (a restarted container's pid 1)
    const earlier = { pid: process.pid, hostname: hostname(), purpose: "swap", since: 0, token: "old", started: 1 };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(earlier));

    // Act
    const first = await createHostLock(dir, { pollMs: 20 }).withLock({ purpose: "prune", waitMs: 1_000 }, async () => "ran");
    let release!: () => void;
    let holding!: () => void;
    const took = new Promise<void>((resolve) => (holding = resolve));
    const held = createHostLock(dir).withLock({ purpose: "build" }, () => new Promise<void>((r) => (holding(), (release = r))));
    await took;
    const second = await createHostLock(dir, { pollMs: 20 })
      .withLock({ purpose: "prune", waitMs: 200 }, async () => "ran")
      .catch((error: unknown) => error);
    release();
    await held;

    // Assert
    expect(first).toBe("ran");
    expect(second).toBeInstanceOf(LockBusyError);
    expect((second as LockBusyError).holder?.purpose).toBe("build");
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
