import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../desired-state/problem.ts";
import { loadPolicy } from "./load-policy.ts";

describe("loadPolicy", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "policy-load-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(text: string) {
    const file = join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    return { file, result: await loadPolicy(file) };
  }

  it("reads the documented format", async () => {
    const { file, result } = await load(
      "level: restricted\nhostPaths: [/srv/data]\nregistries: [ghcr.io/acme, 127.0.0.1:5000]\nmachine: pc2\nexceptions:\n  - " +
        "stack: home\n    service: assistant\n    allow: [hostNetwork]\n",
    );
    expect(result).toEqual({
      ok: true,
      file,
      policy: {
        level: "restricted",
        hostPaths: ["/srv/data"],
        registries: ["ghcr.io/acme", "127.0.0.1:5000"],
        machine: "pc2",
        exceptions: [{ stack: "home", service: "assistant", allow: ["hostNetwork"] }],
      },
    });
  });

  it("is level baseline when no file is given and the default file does not exist", async () => {
    expect(await loadPolicy(undefined, join(dir, "absent.yaml"))).toEqual({
      ok: true,
      policy: { level: "baseline", hostPaths: [], exceptions: [] },
    });
  });

  it("reads the default file when it exists, and an empty file is the default policy", async () => {
    const { file } = await load("");
    expect(await loadPolicy(undefined, file)).toEqual({ ok: true, file, policy: { level: "baseline", hostPaths: [], exceptions: [] } });
  });

  it("names the file, line and field of a typo, an unknown control and a bad level", async () => {
    const { file, result } = await load("level: strict\nhostpaths: [/srv]\nexceptions:\n  - stack: home\n    allow: [hostNet]\n");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lines = result.problems.map(formatProblem);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${file}:1: level: .*privileged.*baseline.*restricted`)));
    expect(lines).toContainEqual(`${file}:2: hostpaths: unknown key (check for a typo)`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${file}:5: exceptions\\.0\\.allow\\.0: .*hostNetwork`)));
  });

  it("refuses a relative or dotted host path", async () => {
    const { result } = await load("hostPaths: [srv/data, /srv/../etc]\n");
    expect(result.ok ? [] : result.problems.map((p) => p.field)).toEqual(["hostPaths.0", "hostPaths.1"]);
  });

  it("refuses a --policy file that does not exist", async () => {
    expect(await loadPolicy(join(dir, "missing.yaml"))).toEqual({
      ok: false,
      problems: [{ file: join(dir, "missing.yaml"), field: "", message: "file not found" }],
    });
  });
});
