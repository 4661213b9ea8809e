// Real-engine test of `berth apply DIR --machine NAME`: a desired-state directory on disk goes
// through the loader, the images step and the stacks reconciler; exit code and summary follow.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { specHash } from "../../reconcilers/stacks/spec-hash.ts";
import { createHarness, docker } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

describe("berth apply", () => {
  let h: Harness;
  let v1: string;
  let v3: string;
  let root: string;
  let stackName: string;
  const apply = createApplyCommand({ stackContext: { pollMs: 250 } });

  async function writeStack(image: string): Promise<void> {
    await writeFile(
      join(root, "stacks", stackName, "compose.yaml"),
      `services:\n  web:\n    image: ${image}\n    stop_grace_period: 1s\n    environment:\n      GREETING: own\n`,
    );
  }

  async function run(): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await apply.run(
      { positionals: [root], flags: { machine: "box", "state-dir": h.stateDir } },
      { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
    );
    return { code, out: out.join(""), err: err.join("") };
  }

  beforeAll(async () => {
    h = await createHarness("apply");
    [v1, v3] = await Promise.all([h.buildVersion("v1"), h.buildVersion("v3", { healthy: false })]);
    root = join(h.dir, "desired");
    stackName = `${h.prefix}-app`;
    await mkdir(join(root, "stacks", stackName), { recursive: true });
    await mkdir(join(root, "profiles"), { recursive: true });
    await writeFile(
      join(root, "berth.yaml"),
      "version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 20s, monitor: 1s }\n",
    );
    await writeFile(join(root, "profiles", "box.json"), JSON.stringify({ GREETING: "profile", REGION: "lab" }));
    await writeStack(v1);
  });

  afterAll(async () => {
    const ids = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${stackName}`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    if (ids.length > 0) await docker("rm", "-f", ...ids).catch(() => "");
    await docker("network", "rm", `${stackName}_default`).catch(() => "");
    for (const tag of ["current", "rollback-1"]) await docker("rmi", `berth-rollback/${stackName}-web:${tag}`).catch(() => "");
    await h?.cleanup();
  });

  it("exits 0 when every service is Ready, running the effective config it wrote", async () => {
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(out).toContain("box: Ready (1 stacks, 1 services, 1 changed)");
    const effective = JSON.parse(await readFile(join(h.stateDir, "stacks", stackName, "compose.json"), "utf8")) as {
      services: { web: Record<string, unknown> & { labels: Record<string, string> } };
    };
    const web = effective.services.web;
    expect(web["environment"]).toEqual({ MACHINE: "box", GREETING: "own", REGION: "lab" });
    const { ["io.berth.spec-hash"]: hash, ...labels } = web.labels;
    expect(hash).toBe(specHash({ ...web, labels }));
    const id = await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stackName}`);
    const env = await docker("inspect", "-f", '{{join .Config.Env " "}}', id);
    expect(env).toContain("MACHINE=box");
    expect(env).toContain("GREETING=own");
    expect(await docker("inspect", "-f", '{{index .Config.Labels "io.berth.spec-hash"}}', id)).toBe(hash);
  });

  it("exits 1 with a summary naming the rollback when the new version fails", async () => {
    await writeStack(v3);
    const { code, err } = await run();
    expect(code).toBe(1);
    // The message names the failed image and the one it rolled back to (both pinned by id).
    expect(err).toMatch(
      new RegExp(
        `${stackName}/web: RolledBack: revision \\S+ \\(spec [0-9a-f]{12}, image ${await h.imageId(v3)}\\) failed: Unhealthy.*; ` +
          `rolled back to revision \\S+ \\(image ${await h.imageId(v1)}\\)`,
      ),
    );
    const id = await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stackName}`);
    expect(await docker("inspect", "-f", "{{.Image}}", id)).toBe(await h.imageId(v1));
  });
});
