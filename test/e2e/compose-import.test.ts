// Real-engine test of `berth import --from-host`: a plain compose project started with
// `docker compose up -d` becomes a valid desired-state repo; the first `berth apply` replaces its
// container once, health-gated, and its named volume keeps its data.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { importCommand } from "../../controller/commands/import-command.ts";
import { validateCommand } from "../../controller/commands/validate-command.ts";
import type { CommandSpec } from "../../controller/cli-io.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { makeTempDir, removeDir } from "../support/git-fixture.ts";
import { docker } from "../support/stacks-harness.ts";

describe("berth import --from-host", () => {
  const project = `compose-imp-${Math.random().toString(36).slice(2, 8)}`;
  let dir: string;
  let out: string;
  let stateDir: string;

  async function run(
    command: CommandSpec,
    positionals: string[],
    flags: Record<string, string | boolean | string[]>,
  ): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const code = await command.run(
      { positionals, flags },
      { stdout: (t) => void lines.push(t), stderr: (t) => void lines.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
    );
    return { code, out: lines.join("") };
  }

  async function container(): Promise<{ id: string; health: string; labels: Record<string, string> }> {
    const id = (await docker("ps", "-q", "--no-trunc", "--filter", `label=com.docker.compose.project=${project}`)).trim();
    const [health, labels] = (await docker("inspect", "--format", "{{.State.Health.Status}}\t{{json .Config.Labels}}", id))
      .trim()
      .split("\t");
    return { id, health: health ?? "", labels: JSON.parse(labels ?? "{}") as Record<string, string> };
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    dir = await makeTempDir("compose-imp");
    out = join(dir, "repo");
    stateDir = join(dir, "state");
    const projectDir = join(dir, "plain");
    await mkdir(join(projectDir, "conf"), { recursive: true });
    await writeFile(join(projectDir, "conf", "site.conf"), "site v1\n");
    await writeFile(join(projectDir, ".env"), "GREETING=hello\n");
    await writeFile(
      join(projectDir, "compose.yaml"),
      [
        "services:",
        "  web:",
        "    image: berth-test/busybox:1",
        "    command: [sh, -c, 'mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www']",
        "    environment:",
        "      GREETING: ${GREETING}",
        "      PRICE: 'a$$b'",
        "    stop_grace_period: 1s",
        "    volumes: [data:/data, ./conf/site.conf:/etc/site.conf:ro]",
        "    healthcheck: { test: [CMD, wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/health'], interval: 1s, timeout: 1s, retries: 2 }",
        "volumes:",
        "  data: {}",
        "",
      ].join("\n"),
    );
    await docker("compose", "-p", project, "--project-directory", projectDir, "-f", join(projectDir, "compose.yaml"), "up", "-d", "--wait");
    await docker("exec", (await container()).id, "sh", "-c", "echo precious > /data/row");
  }, 120_000);

  afterAll(async () => {
    const all = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    if (all.length > 0) await docker("rm", "-f", ...all).catch(() => "");
    await docker("network", "rm", `${project}_default`).catch(() => "");
    await docker("volume", "rm", `${project}_data`).catch(() => "");
    const tags = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${project}-*`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    for (const tag of tags) await docker("rmi", tag).catch(() => "");
    await removeDir(dir);
  });

  it("writes a repo that validates: berth.yaml, a profile stub, the stack with x-berth.machines and its config file", async () => {
    const policyFile = join(dir, "policy.yaml");
    await writeFile(policyFile, "level: restricted\n");
    const imported = await run(importCommand, [], { "from-host": true, out, machine: "box", project: [project], policy: policyFile });
    expect(imported.code, imported.out).toBe(0);
    // What this host's policy would refuse is reported, not fixed behind the user's back.
    expect(imported.out).toContain(`needs a human: host policy (level restricted) would refuse stacks/${project}/compose.yaml`);
    expect(imported.out).toContain(`imported 1 stack(s) for machine box into ${out}: ${project}`);
    expect(parse(await readFile(join(out, "berth.yaml"), "utf8"))).toMatchObject({ version: 1, machines: { box: { profile: "box" } } });
    expect(await readFile(join(out, "profiles", "box.json"), "utf8")).toBe("{}\n");
    const compose = parse(await readFile(join(out, "stacks", project, "compose.yaml"), "utf8")) as {
      "x-berth": unknown;
      services: { web: { volumes: unknown[]; environment: Record<string, string> } };
    };
    expect(compose["x-berth"]).toEqual({ machines: ["box"] });
    expect(compose.services.web.volumes).toContainEqual(
      expect.objectContaining({ type: "bind", source: "./conf/site.conf", target: "/etc/site.conf", read_only: true }),
    );
    expect(compose.services.web.environment).toEqual({ GREETING: "hello", PRICE: "a$$b" });
    expect(await readFile(join(out, "stacks", project, "conf", "site.conf"), "utf8")).toBe("site v1\n");
    const report = await readFile(join(out, "IMPORT-REPORT.md"), "utf8");
    expect(report).toContain("environment values");
    expect(report).toContain("host policy (level restricted) would refuse");
    expect((await run(validateCommand, [out], {})).code).toBe(0);
  }, 60_000);

  it("first apply replaces the container once, health-gated, and the named volume keeps its data", async () => {
    const before = await container();
    expect(before.labels["io.berth.managed"]).toBeUndefined();
    const first = await run(createApplyCommand({ stackContext: { pollMs: 250 } }), [out], { machine: "box", "state-dir": stateDir });
    expect(first.code, first.out).toBe(0);
    const after = await container();
    expect(after.id).not.toBe(before.id);
    expect(after.health).toBe("healthy");
    expect(after.labels["io.berth.managed"]).toBe("true");
    expect((await docker("exec", after.id, "cat", "/data/row", "/etc/site.conf")).trim()).toBe("precious\nsite v1");
    expect(await docker("inspect", "--format", '{{join .Config.Env " "}}', after.id)).toContain("PRICE=a$b");
    // The second apply changes nothing.
    const second = await run(createApplyCommand({ stackContext: { pollMs: 250 } }), [out], { machine: "box", "state-dir": stateDir });
    expect(second.code, second.out).toBe(0);
    expect((await container()).id).toBe(after.id);
  }, 180_000);
});
