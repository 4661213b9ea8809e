// berth drives an engine over ssh://: a second dockerd reached through an sshd of the test's own
// (`docker system dial-stdio` on the far side), with the key in an ssh-agent and the host key in
// known_hosts (checked by berth's API client too). `berth` runs as its own process, as a user starts
// it; the default engine is untouched.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_BIN, REPO_ROOT } from "../support/agent-harness.ts";
import { freeLoopbackPort } from "../support/local-registry.ts";
import { containersOn, startSecondEngine, writeEngineStack } from "../support/second-engine.ts";
import type { SecondEngine } from "../support/second-engine.ts";
import { startSshEngine } from "../support/ssh-engine.ts";
import type { SshEngine } from "../support/ssh-engine.ts";
import { docker } from "../support/stacks-harness.ts";

/** `node bin/berth.cjs …` as its own process with exactly this environment. */
async function berth(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(BERTH_BIN, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { code, out, err };
}

describe("an engine over ssh:// (sshd in front of a second dockerd)", () => {
  const prefix = `ssh-${randomBytes(3).toString("hex")}`;
  let second: SecondEngine;
  let ssh: SshEngine;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    second = await startSecondEngine();
    ssh = await startSshEngine(second.socket, `${prefix}-d`);
  }, 180_000);

  afterAll(async () => {
    await ssh?.stop();
    await second?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("DOCKER_HOST=ssh://USER@127.0.0.1:PORT berth apply builds, runs and reports the stack there; berth status names it", async () => {
    // Arrange
    const stack = `${prefix}-web`;
    const root = await writeEngineStack(dir, stack);
    const stateDir = join(dir, "state");
    const env = { ...ssh.env, HOME: process.env["HOME"] ?? "/root", DOCKER_HOST: ssh.host, BERTH_LOG_LEVEL: "silent" };

    // Act
    const applied = await berth(["apply", root, "--machine", "box", "--state-dir", stateDir], env);
    const status = await berth(["status", "--state-dir", stateDir, "--agent", `http://127.0.0.1:${await freeLoopbackPort()}`], env);

    // Assert: built and running (healthy) on the engine behind sshd, reported with its endpoint and version
    expect(applied.err).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(`engine ${ssh.host} (DOCKER_HOST)`);
    expect(applied.out).toMatch(/image web\s+build Built/);
    expect(applied.out).toContain("box: Ready (1 stacks, 1 services, 1 changed)");
    const there = await containersOn(second.docker, stack);
    expect(there).toHaveLength(1);
    expect(there[0]?.status).toMatch(/^Up .*\(healthy\)/);
    expect(await second.docker("image", "inspect", "--format", "{{.Id}}", there[0]?.image ?? "")).toMatch(/^sha256:/);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`engine ${ssh.host} (DOCKER_HOST)  docker ${second.serverVersion}`);
    expect(status.out).toMatch(new RegExp(`${stack}/web\\s+\\S+\\s+healthy`));
    // The default engine has neither the stack's containers nor its image.
    expect(await containersOn(docker, stack)).toEqual([]);
    await expect(docker("image", "inspect", there[0]?.image ?? "")).rejects.toThrow(/No such image/i);
  }, 240_000);

  it("refuses an engine whose host presents a key other than known_hosts lists, for its API client as for docker children", async () => {
    // Arrange: the client's known_hosts names another key for the host
    await ssh.trust("other");
    const env = { ...ssh.env, HOME: process.env["HOME"] ?? "/root", DOCKER_HOST: ssh.host, BERTH_LOG_LEVEL: "silent" };
    const port = new URL(ssh.host).port;

    // Act
    const status = await berth(
      ["status", "--state-dir", join(dir, "state-refused"), "--agent", `http://127.0.0.1:${await freeLoopbackPort()}`],
      env,
    ).finally(() => ssh.trust("server"));

    // Assert
    expect(status.out).toContain(
      `engine ${ssh.host} (DOCKER_HOST)  not answering: ${ssh.host}: the host key of [127.0.0.1]:${port} does not match the one in`,
    );
    expect(status.err).not.toMatch(/DeprecationWarning/);
  }, 60_000);
});
