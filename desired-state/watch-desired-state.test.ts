// Behaviour of the desired-state watcher on real directories, symlink swaps and git-sync publishes.
import { mkdir, realpath, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../platform/logger.ts";
import { createSourceRepo, makeTempDir, removeDir } from "../test/support/git-fixture.ts";
import { createGitSync } from "./git-sync.ts";
import { resolvePublished, watchDesiredState } from "./watch-desired-state.ts";
import type { DesiredStateWatch } from "./watch-desired-state.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Counts callbacks and remembers when each arrived. */
function recorder(): { onChange: () => void; times: number[]; next: () => Promise<number> } {
  const times: number[] = [];
  const waiters: Array<(time: number) => void> = [];
  return {
    times,
    onChange() {
      const now = performance.now();
      times.push(now);
      waiters.shift()?.(now);
    },
    next: () =>
      new Promise((done, fail) => {
        waiters.push(done);
        setTimeout(() => fail(new Error("no callback within 5 s")), 5000).unref();
      }),
  };
}

async function swapLink(link: string, target: string): Promise<void> {
  const temp = `${link}.tmp`;
  await symlink(target, temp);
  await rename(temp, link);
}

describe("watchDesiredState", { timeout: 30_000 }, () => {
  let root: string;
  let watcher: DesiredStateWatch | undefined;

  beforeEach(async () => {
    root = await makeTempDir("watch");
  });

  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    await removeDir(root);
  });

  it("fires once after the debounce when a file is edited", async () => {
    const dir = join(root, "desired");
    await mkdir(dir);
    await writeFile(join(dir, "berth.yaml"), "a: 1\n");
    const calls = recorder();
    watcher = watchDesiredState(dir, calls.onChange, { debounceMs: 100 });
    await watcher.ready;

    const editedAt = performance.now();
    await writeFile(join(dir, "berth.yaml"), "a: 2\n");
    const firedAt = await calls.next();
    await sleep(400);

    expect(calls.times).toHaveLength(1);
    expect(firedAt - editedAt).toBeGreaterThanOrEqual(95);
  });

  it("folds a burst of 100 file writes into one callback", async () => {
    const dir = join(root, "desired");
    await mkdir(join(dir, "stacks"), { recursive: true });
    const calls = recorder();
    watcher = watchDesiredState(dir, calls.onChange, { debounceMs: 100 });
    await watcher.ready;

    await Promise.all(Array.from({ length: 100 }, (_, index) => writeFile(join(dir, "stacks", `file-${index}.yaml`), `n: ${index}\n`)));
    await calls.next();
    await sleep(400);

    expect(calls.times).toHaveLength(1);
  });

  it("ignores changes inside .git", async () => {
    const dir = join(root, "desired");
    await mkdir(join(dir, ".git"), { recursive: true });
    const calls = recorder();
    watcher = watchDesiredState(dir, calls.onChange, { debounceMs: 50 });
    await watcher.ready;

    await writeFile(join(dir, ".git", "index"), "changed");
    await mkdir(join(dir, ".git", "objects", "ab"), { recursive: true });
    await sleep(400);

    expect(calls.times).toHaveLength(0);
  });

  it("fires when the symlink is swapped to a new worktree, well under 300 ms", async () => {
    const link = join(root, "current");
    await mkdir(join(root, "worktrees", "aaa"), { recursive: true });
    await mkdir(join(root, "worktrees", "bbb"), { recursive: true });
    await symlink("worktrees/aaa", link);
    const calls = recorder();
    watcher = watchDesiredState(link, calls.onChange, { debounceMs: 100 });
    await watcher.ready;

    const swappedAt = performance.now();
    await swapLink(link, "worktrees/bbb");
    const firedAt = await calls.next();

    expect(firedAt - swappedAt).toBeLessThan(300);
    expect(await resolvePublished(link)).toBe(await realpath(join(root, "worktrees", "bbb")));
    expect(calls.times).toHaveLength(1);
  });

  it("follows the new target after a swap: edits there fire, edits in the old tree do not", async () => {
    const link = join(root, "current");
    await mkdir(join(root, "worktrees", "aaa"), { recursive: true });
    await mkdir(join(root, "worktrees", "bbb"), { recursive: true });
    await symlink("worktrees/aaa", link);
    const calls = recorder();
    watcher = watchDesiredState(link, calls.onChange, { debounceMs: 50 });
    await watcher.ready;
    await swapLink(link, "worktrees/bbb");
    await calls.next();
    await sleep(100);

    await writeFile(join(root, "worktrees", "aaa", "old.yaml"), "x");
    await sleep(300);
    const afterOldEdit = calls.times.length;
    await writeFile(join(root, "worktrees", "bbb", "new.yaml"), "y");
    await calls.next();

    expect(afterOldEdit).toBe(1);
    expect(calls.times).toHaveLength(2);
  });

  it("fires when the link appears after the watch started", async () => {
    const link = join(root, "current");
    await mkdir(join(root, "worktrees", "aaa"), { recursive: true });
    const calls = recorder();
    watcher = watchDesiredState(link, calls.onChange, { debounceMs: 50 });
    await watcher.ready;

    await swapLink(link, "worktrees/aaa");
    await calls.next();

    expect(await resolvePublished(link)).toBe(await realpath(join(root, "worktrees", "aaa")));
  });

  it("does not fire from the periodic rescan when nothing changed", async () => {
    const dir = join(root, "desired");
    await mkdir(dir);
    await writeFile(join(dir, "berth.yaml"), "a: 1\n");
    const calls = recorder();
    watcher = watchDesiredState(dir, calls.onChange, { debounceMs: 50, rescanSeconds: 0.1 });
    await watcher.ready;

    await writeFile(join(dir, "berth.yaml"), "a: 2\n");
    await calls.next();
    await sleep(600);

    expect(calls.times).toHaveLength(1);
  });

  it("calls back once per commit published by git sync, even for a 100-file commit", async () => {
    const source = await createSourceRepo(join(root, "source"));
    await source.commit({ "berth.yaml": "v: 1\n" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: join(root, "sync"), logger: silentLogger() });
    await gitSync.sync();
    const calls = recorder();
    watcher = watchDesiredState(gitSync.currentPath, calls.onChange, { debounceMs: 100 });
    await watcher.ready;
    const files = Object.fromEntries(
      Array.from({ length: 100 }, (_, index) => [`stacks/s${index}/compose.yaml`, `services: {}\n# ${index}\n`]),
    );
    const second = await source.commit(files, "a hundred files");

    const result = await gitSync.sync();
    await calls.next();
    await sleep(400);

    expect(result).toMatchObject({ ok: true, revision: second, changed: true });
    expect(calls.times).toHaveLength(1);
    expect(await resolvePublished(gitSync.currentPath)).toBe(await realpath(join(root, "sync", "worktrees", second)));
  });
});
