import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ComposeCli } from "../platform/compose-cli.ts";
import { CommandError } from "../platform/run-command.ts";
import { createComposeNormalizer } from "./normalize-compose.ts";

function fakeCompose(): ComposeCli & { calls: number } {
  const fake = {
    calls: 0,
    run: () => Promise.reject(new Error("not used")),
    config: (project: { directory: string }) => {
      fake.calls += 1;
      return Promise.resolve({
        services: { web: { build: { context: `${project.directory}/app` }, volumes: [{ source: `${project.directory}/data` }] } },
      });
    },
  };
  return fake;
}

describe("compose normalizer", () => {
  it("normalises an unchanged stack at a new path (a new git-sync worktree) without calling compose again", async () => {
    const compose = fakeCompose();
    const normalizer = createComposeNormalizer(compose);
    const input = { project: "web", file: "compose.yaml", text: "services: {}", siblingsDigest: "d1" };
    await normalizer.normalize({ ...input, directory: "/srv/worktrees/aaa/stacks/web" });
    const second = await normalizer.normalize({ ...input, directory: "/srv/worktrees/bbb/stacks/web" });
    expect(compose.calls).toBe(1);
    expect(second).toEqual({
      ok: true,
      model: {
        services: {
          web: { build: { context: "/srv/worktrees/bbb/stacks/web/app" }, volumes: [{ source: "/srv/worktrees/bbb/stacks/web/data" }] },
        },
      },
    });
  });

  it("normalises again when a file beside the compose file (.env) changed", async () => {
    const compose = fakeCompose();
    const normalizer = createComposeNormalizer(compose);
    const input = { project: "web", directory: "/d", file: "compose.yaml", text: "services: {}" };
    await normalizer.normalize({ ...input, siblingsDigest: "env-v1" });
    await normalizer.normalize({ ...input, siblingsDigest: "env-v2" });
    expect(compose.calls).toBe(2);
  });

  it("runs at most `concurrency` compose processes at once, however many stacks arrive together", async () => {
    let running = 0;
    let peak = 0;
    const compose: ComposeCli = {
      run: () => Promise.reject(new Error("not used")),
      config: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
        return { services: {} };
      },
    };
    const normalizer = createComposeNormalizer(compose, { concurrency: 2 });

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        normalizer.normalize({ project: `s${i}`, directory: `/d/${i}`, file: "compose.yaml", text: `services: {} # ${i}` }),
      ),
    );

    expect(results.every((r) => r.ok)).toBe(true);
    expect(peak).toBe(2);
  });

  it("reports a compose call killed at its timeout as a timeout, not as compose rejecting the file", async () => {
    const compose: ComposeCli = {
      run: () => Promise.reject(new Error("not used")),
      config: () =>
        Promise.reject(new CommandError("docker compose -p x", { stdout: "", stderr: "\ntimed out after 30000 ms", exitCode: 124 }, true)),
    };
    const result = await createComposeNormalizer(compose).normalize({
      project: "x",
      directory: "/d",
      file: "compose.yaml",
      text: "services: {}",
    });
    expect(result).toEqual({ ok: false, reason: "TimedOut", message: "docker compose config did not finish within 30 s" });
  });

  describe("with a cache dir", () => {
    const dirs: string[] = [];
    afterEach(async () => {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    });
    async function cacheDir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), "berth-normalize-"));
      dirs.push(dir);
      return join(dir, "compose");
    }
    const input = { project: "web", file: "compose.yaml", text: "services: {}", siblingsDigest: "d1" };

    it("answers a later process (a new normalizer) from disk without calling compose", async () => {
      const dir = await cacheDir();
      const first = fakeCompose();
      await createComposeNormalizer(first, { cacheDir: dir }).normalize({ ...input, directory: "/srv/a/web" });
      const later = fakeCompose();

      const result = await createComposeNormalizer(later, { cacheDir: dir }).normalize({ ...input, directory: "/srv/b/web" });

      expect(first.calls).toBe(1);
      expect(later.calls).toBe(0);
      expect(result).toEqual({
        ok: true,
        model: { services: { web: { build: { context: "/srv/b/web/app" }, volumes: [{ source: "/srv/b/web/data" }] } } },
      });
    });

    it("calls compose again for changed content and treats a corrupt cache file as a miss", async () => {
      const dir = await cacheDir();
      await createComposeNormalizer(fakeCompose(), { cacheDir: dir }).normalize({ ...input, directory: "/d" });
      for (const name of await readdir(dir)) await writeFile(join(dir, name), "{not json");
      const later = fakeCompose();
      const normalizer = createComposeNormalizer(later, { cacheDir: dir });

      await normalizer.normalize({ ...input, directory: "/d" });
      await normalizer.normalize({ ...input, directory: "/d", text: "services: { web: {} }" });

      expect(later.calls).toBe(2);
    });

    it("keeps at most maxEntries files", async () => {
      const dir = await cacheDir();
      const normalizer = createComposeNormalizer(fakeCompose(), { cacheDir: dir, maxEntries: 2 });

      for (const text of ["a: 1", "b: 1", "c: 1"]) await normalizer.normalize({ ...input, directory: "/d", text });

      expect((await readdir(dir)).filter((n) => n.endsWith(".json"))).toHaveLength(2);
    });

    it("still normalises when the cache dir cannot be written", async () => {
      const parent = await cacheDir();
      const blocker = join(parent, "..", "file");
      await writeFile(blocker, "a file, not a directory");
      const compose = fakeCompose();

      const result = await createComposeNormalizer(compose, { cacheDir: join(blocker, "compose") }).normalize({
        ...input,
        directory: "/d",
      });

      expect(result.ok).toBe(true);
      expect(compose.calls).toBe(1);
    });
  });

  it("moves a cached model to a new root, paths outside the stack's folder included", async () => {
    const fake = {
      calls: 0,
      run: () => Promise.reject(new Error("not used")),
      config: () => {
        fake.calls += 1;
        return Promise.resolve({ services: { web: { volumes: [{ source: "/srv/worktrees/aaa/shared/app.conf" }] } } });
      },
    };
    const normalizer = createComposeNormalizer(fake);
    const input = { project: "web", file: "compose.yaml", text: "services: {}" };
    await normalizer.normalize({ ...input, root: "/srv/worktrees/aaa", directory: "/srv/worktrees/aaa/stacks/web" });
    const second = await normalizer.normalize({ ...input, root: "/srv/worktrees/bbb", directory: "/srv/worktrees/bbb/stacks/web" });
    expect(fake.calls).toBe(1);
    expect(second).toEqual({ ok: true, model: { services: { web: { volumes: [{ source: "/srv/worktrees/bbb/shared/app.conf" }] } } } });
  });
});
