// berth.yaml's `registry` as a prefix or `{ prefix, mirrors }`, and a typo in it named by file and field.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDesiredState } from "./load-desired-state.ts";

describe("berth.yaml registry mirrors", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "registry-mirrors-file-"));
    await mkdir(join(root, "profiles"));
    await writeFile(join(root, "profiles/pc2.json"), "{}");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function load(registry: string) {
    await writeFile(join(root, "berth.yaml"), `version: 1\n${registry}\nmachines:\n  pc2: { profile: pc2 }\n`);
    return loadDesiredState(root);
  }

  it("reads the prefix form and the object form with its mirrors in order", async () => {
    const plain = await load("registry: ghcr.io/org");
    const mirrored = await load("registry:\n  prefix: ghcr.io/org\n  mirrors: [127.0.0.1:5000/org, 10.0.0.2:5000/org]");

    expect(plain).toMatchObject({ ok: true, state: { registry: "ghcr.io/org" } });
    expect(plain.ok && plain.state.registryMirrors).toBeUndefined();
    expect(mirrored).toMatchObject({
      ok: true,
      state: { registry: "ghcr.io/org", registryMirrors: ["127.0.0.1:5000/org", "10.0.0.2:5000/org"] },
    });
  });

  it("refuses an unknown key and a malformed mirror, naming berth.yaml", async () => {
    const typo = await load("registry:\n  prefix: ghcr.io/org\n  mirror: [127.0.0.1:5000/org]");
    const bad = await load("registry:\n  prefix: ghcr.io/org\n  mirrors: ['http://127.0.0.1:5000']");

    expect(typo.ok).toBe(false);
    expect(bad.ok).toBe(false);
    expect(!typo.ok && typo.problems[0]?.file).toBe("berth.yaml");
    expect(!bad.ok && JSON.stringify(bad.problems)).toContain("registry");
  });
});
