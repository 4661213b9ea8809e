import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import { pruneStackSources, resolveStackSources } from "./stack-sources.ts";

describe("stack sources", () => {
  let dir: string;
  let root: string;
  let stateDir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-sources-"));
    root = join(dir, "worktrees", "aaa");
    stateDir = join(dir, "state");
    await mkdir(join(root, "stacks", "web", "conf"), { recursive: true });
    await mkdir(join(root, "stacks", "web", "keep"), { recursive: true });
    await writeFile(join(root, "stacks", "web", "conf", "app.conf"), "v1\n");
    await writeFile(join(root, "stacks", "web", "keep", ".gitkeep"), "");
    await writeFile(join(root, "stacks", "web", "token.txt"), "s3cret\n");
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function stackAt(base: string): StackSpec {
    const stackDir = join(base, "stacks", "web");
    const config = {
      image: "busybox",
      profiles: ["extra"],
      volumes: [
        { type: "bind", source: join(stackDir, "conf", "app.conf"), target: "/etc/app.conf" },
        { type: "bind", source: join(stackDir, "data"), target: "/data" },
        { type: "bind", source: join(stackDir, "keep"), target: "/keep" },
        { type: "bind", source: "/srv/shared", target: "/shared" },
        { type: "volume", source: "cache", target: "/cache" },
      ],
      secrets: [{ source: "token", target: "/run/secrets/token" }, { source: "from-env" }],
    };
    return {
      name: "web",
      dir: stackDir,
      composeFile: join(stackDir, "compose.yaml"),
      machines: "all",
      prune: false,
      services: [
        {
          name: "app",
          stack: "web",
          config,
          rollout: DEFAULT_ROLLOUT,
          selfHeal: true,
          source: "auto",
          dependsOn: [],
          hasFixedHostPort: false,
        },
      ],
      model: { services: { app: config }, secrets: { token: { file: join(stackDir, "token.txt") }, "from-env": { environment: "TOKEN" } } },
    };
  }

  it("mounts tracked files from content-addressed copies and missing paths from the stack's data folder", async () => {
    const resolved = await resolveStackSources(stackAt(root), { root, stateDir, materialize: true });
    const config = resolved.services[0]?.config ?? {};
    const volumes = config["volumes"] as Array<Record<string, unknown>>;
    expect(volumes[0]?.["source"]).toMatch(new RegExp(`^${join(stateDir, "sources", "web")}/[0-9a-f]{32}/app.conf$`));
    expect(await readFile(String(volumes[0]?.["source"]), "utf8")).toBe("v1\n");
    expect(volumes[1]?.["source"]).toBe(join(stateDir, "data", "web", "data"));
    expect((await stat(join(stateDir, "data", "web", "data"))).isDirectory()).toBe(true);
    // A folder holding only .gitkeep is a data folder too.
    expect(volumes[2]?.["source"]).toBe(join(stateDir, "data", "web", "keep"));
    expect(volumes[3]?.["source"]).toBe("/srv/shared");
    expect(volumes[4]).toEqual({ type: "volume", source: "cache", target: "/cache" });
    // A file secret becomes a read-only bind of its copy; an environment secret stays.
    expect(volumes[5]).toMatchObject({ type: "bind", target: "/run/secrets/token", read_only: true });
    expect(await readFile(String(volumes[5]?.["source"]), "utf8")).toBe("s3cret\n");
    expect(config["secrets"]).toEqual([{ source: "from-env" }]);
    expect(resolved.model["secrets"]).toEqual({ "from-env": { environment: "TOKEN" } });
    expect(config["profiles"]).toBeUndefined();
  });

  it("gives the same config for the same content in another commit's tree, and another one when a mounted file changes", async () => {
    const other = join(dir, "worktrees", "bbb");
    await mkdir(join(other, "stacks"), { recursive: true });
    await cp(join(root, "stacks"), join(other, "stacks"), { recursive: true });
    const first = await resolveStackSources(stackAt(root), { root, stateDir, materialize: true });
    const same = await resolveStackSources(stackAt(other), { root: other, stateDir, materialize: true });
    expect(same.services[0]?.config).toEqual(first.services[0]?.config);
    await writeFile(join(other, "stacks", "web", "conf", "app.conf"), "v2\n");
    const changed = await resolveStackSources(stackAt(other), { root: other, stateDir, materialize: true });
    const sources = (s: StackSpec): unknown[] =>
      (s.services[0]?.config["volumes"] as Array<Record<string, unknown>>).map((v) => v["source"]);
    expect(sources(changed)[0]).not.toBe(sources(first)[0]);
    expect(sources(changed).slice(1)).toEqual(sources(first).slice(1));
  });

  it("computes the paths without creating anything when not materializing (berth plan)", async () => {
    const planned = await resolveStackSources(stackAt(root), { root, stateDir, materialize: false });
    const applied = await resolveStackSources(stackAt(root), { root, stateDir, materialize: true });
    expect(planned.services[0]?.config).toEqual(applied.services[0]?.config);
  });

  it("refuses a bind source that is a symlink leading outside the root", async () => {
    await rm(join(root, "stacks", "web", "conf", "app.conf"));
    await symlink("/etc/hostname", join(root, "stacks", "web", "conf", "app.conf"));
    await expect(resolveStackSources(stackAt(root), { root, stateDir, materialize: true })).rejects.toThrow(
      "bind source stacks/web/conf/app.conf is a symlink that leads outside the desired-state root",
    );
  });

  it("prunes only the copies nothing names any more, never a data folder", async () => {
    const first = await resolveStackSources(stackAt(root), { root, stateDir, materialize: true });
    await writeFile(join(root, "stacks", "web", "conf", "app.conf"), "v2\n");
    const second = await resolveStackSources(stackAt(root), { root, stateDir, materialize: true });
    const source = (s: StackSpec): string => String((s.services[0]?.config["volumes"] as Array<Record<string, unknown>>)[0]?.["source"]);
    const removed = await pruneStackSources(stateDir, "web", JSON.stringify(second.services.map((s) => s.config)));
    expect(removed).toEqual([join(source(first), "..")]);
    expect(await readFile(source(second), "utf8")).toBe("v2\n");
    expect((await stat(join(stateDir, "data", "web", "data"))).isDirectory()).toBe(true);
  });
});
