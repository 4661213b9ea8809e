// `x-berth.update` and berth.yaml's `update`: the fleet default, the per-service override, and
// the problems (a typo, a service berth builds) named by file, line and field.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDesiredState } from "./load-desired-state.ts";

const MINIMAL = fileURLToPath(new URL("../test/fixtures/desired-state/minimal", import.meta.url));

describe("update policy of images berth does not build", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-update-"));
    await cp(MINIMAL, root, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function withCompose(extra: string, berthYaml = ""): Promise<Awaited<ReturnType<typeof loadDesiredState>>> {
    const file = join(root, "stacks", "web", "compose.yaml");
    await writeFile(file, `${await readFile(file, "utf8")}${extra}`);
    if (berthYaml) await writeFile(join(root, "berth.yaml"), `${await readFile(join(root, "berth.yaml"), "utf8")}${berthYaml}`);
    return loadDesiredState(root, { revision: "0123456789abcdef" });
  }

  it("defaults to pinned, takes the fleet default, and lets a service override it", async () => {
    const services = "  cache:\n    image: redis:7\n  tracked:\n    image: redis:8\n    x-berth: { update: track }\n";
    const pinned = await withCompose(services);
    if (!pinned.ok) throw new Error(JSON.stringify(pinned.problems));
    const byName = (state: typeof pinned.state, name: string) => state.stacks[0]?.services.find((s) => s.name === name);
    expect(byName(pinned.state, "cache")?.update).toBe("pinned");
    expect(byName(pinned.state, "tracked")?.update).toBe("track");
    expect(byName(pinned.state, "web")?.update).toBeUndefined();
  });

  it("uses berth.yaml's update as the fleet default", async () => {
    const loaded = await withCompose("  cache:\n    image: redis:7\n", "update: track\n");
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.state.stacks[0]?.services.find((s) => s.name === "cache")?.update).toBe("track");
  });

  it("refuses a value that is not pinned or track, naming the file, line and field", async () => {
    const loaded = await withCompose("  cache:\n    image: redis:7\n    x-berth: { update: latest }\n");
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems).toContainEqual(
      expect.objectContaining({ file: "stacks/web/compose.yaml", field: "services.cache.x-berth.update", line: 15 }),
    );
  });

  it("refuses update on a service berth builds", async () => {
    const file = join(root, "stacks", "web", "compose.yaml");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace(
        "rollout: { strategy: start-first }",
        "rollout: { strategy: start-first }\n      update: track",
      ),
    );
    const loaded = await loadDesiredState(root, { revision: "0123456789abcdef" });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems).toContainEqual(
      expect.objectContaining({ field: "services.web.x-berth.update", message: expect.stringContaining("images berth does not build") }),
    );
  });
});
