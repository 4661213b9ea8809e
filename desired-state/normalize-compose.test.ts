import { describe, expect, it } from "vitest";
import type { ComposeCli } from "../platform/compose-cli.ts";
import { CommandError } from "../platform/run-command.ts";
import { createComposeNormalizer } from "./normalize-compose.ts";

function fakeCompose(): ComposeCli & { calls: number } {
  const fake = {
    calls: 0,
    run: () => Promise.reject(new Error("not used")),
    config: (project: { directory: string }) => {
      fake.calls += 1;
      return Promise.resolve({ services: { web: { build: { context: `${project.directory}/app` }, volumes: [{ source: `${project.directory}/data` }] } } });
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
    expect(second).toEqual({ ok: true, model: { services: { web: { build: { context: "/srv/worktrees/bbb/stacks/web/app" }, volumes: [{ source: "/srv/worktrees/bbb/stacks/web/data" }] } } } });
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

    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => normalizer.normalize({ project: `s${i}`, directory: `/d/${i}`, file: "compose.yaml", text: `services: {} # ${i}` })));

    expect(results.every((r) => r.ok)).toBe(true);
    expect(peak).toBe(2);
  });

  it("reports a compose call killed at its timeout as a timeout, not as compose rejecting the file", async () => {
    const compose: ComposeCli = {
      run: () => Promise.reject(new Error("not used")),
      config: () => Promise.reject(new CommandError("docker compose -p x", { stdout: "", stderr: "\ntimed out after 30000 ms", exitCode: 124 }, true)),
    };
    const result = await createComposeNormalizer(compose).normalize({ project: "x", directory: "/d", file: "compose.yaml", text: "services: {}" });
    expect(result).toEqual({ ok: false, reason: "TimedOut", message: "docker compose config did not finish within 30 s" });
  });
});
