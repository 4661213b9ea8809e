// The loader's phases: a phase's problems in every file are reported together, a later phase
// does not run on a tree that failed an earlier one, and a refusal still names the revision.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDesiredState } from "./load-desired-state.ts";
import { formatProblem } from "./problem.ts";

describe("loadDesiredState", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "loader-phases-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function write(files: Record<string, string>): Promise<void> {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  }

  const BERTH = "version: 1\nmachines:\n  pc2: { profile: pc2 }\n";

  it("loads a stack without a normaliser, with the strategy and prune settings derived once", async () => {
    await write({
      "berth.yaml": `${BERTH}prune: { keep: 5 }\nrollout: { monitor: 3s }\n`,
      "profiles/pc2.json": "{}",
      "stacks/web/compose.yaml": "services:\n  web:\n    image: nginx:1\n    deploy: { update_config: { order: start-first } }\n",
    });
    const loaded = await loadDesiredState(root, { revision: "r1" });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.state.revision).toBe("r1");
    expect(loaded.state.machines["pc2"]?.prune).toMatchObject({ keep: 5, schedule: "0 4 * * *" });
    expect(loaded.state.stacks[0]?.services[0]?.rollout).toMatchObject({ strategy: "start-first", monitorSeconds: 3 });
  });

  it("reports the problems of every file in one phase together", async () => {
    await write({
      "berth.yaml": `${BERTH}resynk: 5m\n`,
      "profiles/pc2.json": '{ "A": 1 }',
      "stacks/web/compose.yaml": "services:\n  web:\n    image: nginx:1\n    x-berth: { selfHael: true }\n",
    });
    const loaded = await loadDesiredState(root, { revision: "r1" });
    expect(loaded.ok ? [] : loaded.problems.map(formatProblem)).toEqual([
      "berth.yaml:4: resynk: unknown key (check for a typo)",
      'profiles/pc2.json:1: A: profile values must be strings (quote numbers: "16")',
      "stacks/web/compose.yaml:4: services.web.x-berth.selfHael: unknown key (check for a typo)",
    ]);
  });

  it("does not check files against each other while one of them does not parse, and names the content revision", async () => {
    await write({
      "berth.yaml": BERTH,
      "profiles/pc2.json": "{ not json",
      "stacks/web/compose.yaml": "x-berth: { machines: [nope] }\nservices:\n  web:\n    image: nginx:1\n",
    });
    const loaded = await loadDesiredState(root);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.map((p) => p.file)).toEqual(["profiles/pc2.json"]);
    expect(loaded.revision).toMatch(/^content-[0-9a-f]{12}$/);
  });

  it("gives a root that is not a git checkout a new content revision when only berth.yaml changes", async () => {
    await write({ "berth.yaml": BERTH, "profiles/pc2.json": "{}", "stacks/web/compose.yaml": "services:\n  web:\n    image: nginx:1\n" });
    const before = await loadDesiredState(root);
    await write({ "berth.yaml": `${BERTH}# retuned\n` });
    const after = await loadDesiredState(root);

    if (!before.ok || !after.ok) throw new Error(JSON.stringify([before, after]));
    expect(after.state.revision).toMatch(/^content-[0-9a-f]{12}$/);
    expect(after.state.revision).not.toBe(before.state.revision);
  });
});
