import { describe, expect, it } from "vitest";
import type { ComposeCli } from "../platform/compose-cli.ts";
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
});
