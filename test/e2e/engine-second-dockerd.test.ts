// berth drives exactly the engine the user selected: a second dockerd on its own socket (and on
// TCP+TLS), named by DOCKER_HOST, by a docker context, or DOCKER_TLS_VERIFY; the default engine
// is left untouched (its containers, images and its docker0 bridge). Builds are COPY-only.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent } from "../../controller/agent.ts";
import type { Agent } from "../../controller/agent.ts";
import { agentConfig } from "../../controller/agent-config.ts";
import { main } from "../../controller/cli.ts";
import type { StatusView } from "../../controller/status-view.ts";
import { selectEngine } from "../../platform/engine-selection.ts";
import { createLogger } from "../../platform/logger.ts";
import { runCommand } from "../../platform/run-command.ts";
import { freeLoopbackPort } from "../support/local-registry.ts";
import { containersOn, defaultBridgePresent, startSecondEngine, writeEngineStack } from "../support/second-engine.ts";
import type { SecondEngine } from "../support/second-engine.ts";
import { docker } from "../support/stacks-harness.ts";

const BASE_ENV = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", BERTH_LOG_LEVEL: "silent" };

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the engine the user selected (a second dockerd)", () => {
  const prefix = `engine-${randomBytes(3).toString("hex")}`;
  let second: SecondEngine;
  let dir: string;
  let hadDefaultBridge: boolean;

  const desiredState = (stack: string): Promise<string> => writeEngineStack(dir, stack);

  async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { ...BASE_ENV, ...env } });
    return { code, out, err };
  }

  async function expectOnlyOnSecond(stack: string): Promise<void> {
    const there = await containersOn(second.docker, stack);
    expect(there).toHaveLength(1);
    expect(there[0]?.status).toMatch(/^Up .*\(healthy\)/);
    expect(await second.docker("image", "inspect", "--format", "{{.Id}}", there[0]?.image ?? "")).toMatch(/^sha256:/);
    // The default engine has neither the stack's containers nor the image berth built for it.
    expect(await containersOn(docker, stack)).toEqual([]);
    await expect(docker("image", "inspect", there[0]?.image ?? "")).rejects.toThrow(/No such image/i);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    hadDefaultBridge = await defaultBridgePresent();
    second = await startSecondEngine({ tls: true });
  }, 180_000);

  afterAll(async () => {
    await second?.stop();
    await rm(dir, { recursive: true, force: true });
    if (hadDefaultBridge && !(await defaultBridgePresent()))
      throw new Error("the default engine's docker0 bridge is gone after the second dockerd ran");
    // Its networks (pool 10.214.0.0/16) leave no bridge behind to shrink the default engine's address pools.
    const leftover = (await runCommand("ip", ["-o", "-4", "addr", "show"], { timeoutMs: 10_000 })).stdout
      .split("\n")
      .filter((line) => line.includes(" inet 10.214."));
    if (leftover.length > 0) throw new Error(`the second dockerd left bridges behind:\n${leftover.join("\n")}`);
  }, 60_000);

  it(
    "DOCKER_HOST=unix:///… berth apply builds, runs and reports the stack on that engine, not the default one, and compose " +
      "never sees berth's own environment",
    async () => {
      // Arrange
      const stack = `${prefix}-host`;
      const root = await desiredState(stack);
      const stateDir = join(dir, "state-host");

      process.env["ENGINE_LEAK_PROBE"] = "agent-secret";

      // Act
      const applied = await cli(["apply", root, "--machine", "box", "--state-dir", stateDir], { DOCKER_HOST: second.socket }).finally(
        () => delete process.env["ENGINE_LEAK_PROBE"],
      );
      const status = await cli(["status", "--state-dir", stateDir, "--agent", `http://127.0.0.1:${await freeLoopbackPort()}`], {
        DOCKER_HOST: second.socket,
      });

      // Assert
      expect(applied.err).toBe("");
      expect(applied.code).toBe(0);
      expect(applied.out).toContain(`engine ${second.socket} (DOCKER_HOST)`);
      expect(applied.out).toMatch(/image web\s+build Built/);
      expect(applied.out).toContain("box: Ready (1 stacks, 1 services, 1 changed)");
      await expectOnlyOnSecond(stack);
      expect(await defaultBridgePresent()).toBe(hadDefaultBridge);
      const [web] = await containersOn(second.docker, stack);
      expect(await second.docker("inspect", "--format", "{{json .Config.Env}}", web?.id ?? "")).not.toContain("agent-secret");
      expect(status.code).toBe(0);
      expect(status.out).toContain(`engine ${second.socket} (DOCKER_HOST)  docker ${second.serverVersion}`);
      expect(status.out).toMatch(new RegExp(`${stack}/web\\s+\\S+\\s+healthy`));
    },
    180_000,
  );

  it("the agent's event stream and metrics follow the selected engine", async () => {
    // Arrange: an agent whose selection names the second engine
    const stack = `${prefix}-agent`;
    const root = await desiredState(stack);
    const parsed = agentConfig(
      {
        positionals: [],
        flags: { "desired-state": root, "state-dir": join(dir, "state-agent"), listen: "127.0.0.1:0", machine: "box", "log-level": "info" },
      },
      {},
    );
    if (!parsed.ok) throw new Error(parsed.message);
    const logs: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    const agent: Agent = await startAgent(parsed.config, {
      selection: selectEngine({ ...BASE_ENV, DOCKER_HOST: second.socket }),
      logger: createLogger({ level: "info", destination }),
    });
    const url = `http://${agent.address ?? ""}`;
    const status = async (): Promise<StatusView> => (await (await fetch(`${url}/api/v1/status`)).json()) as StatusView;
    const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
    try {
      await until(
        "the stack Ready on the second engine",
        async () => (await status()).services.find((s) => s.stack === stack)?.health === "healthy" && (await status()).ready,
        120_000,
      );
      const [before] = await containersOn(second.docker, stack);

      // Act: the container dies on the second engine (only its event stream can tell the agent)
      await second.docker("kill", before?.id ?? "");

      // Assert: the agent saw the die event, restored the service there, and its metrics say so
      await until(
        "the service restored on the second engine",
        async () => {
          const now = await containersOn(second.docker, stack);
          return now.length === 1 && /^Up .*\(healthy\)/.test(now[0]?.status ?? "");
        },
        60_000,
      );
      // The scrape reads a cached engine look (0.5 s): wait for it to catch up with the restored container.
      const healthy = `berth_service_health{stack="${stack}",service="web",state="healthy"} 1`;
      const scrape = await until(
        "a restart counted and the service healthy again",
        async () => {
          const text = await metrics();
          return text.includes(healthy) && text.includes(`berth_service_restarts_total{stack="${stack}",service="web"}`) ? text : undefined;
        },
        30_000,
      );
      expect(scrape).toContain(`berth_service_restarts_total{stack="${stack}",service="web"} 1`);
      expect(logs.find((l) => l["msg"] === "engine selected")).toMatchObject({
        engine: second.socket,
        selectedBy: "DOCKER_HOST",
        serverVersion: second.serverVersion,
      });
      expect((await status()).engine).toMatchObject({ endpoint: second.socket, serverVersion: second.serverVersion });
      expect(await containersOn(docker, stack)).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 240_000);

  it("follows the current docker context when DOCKER_HOST is not set", async () => {
    // Arrange: a docker config of its own whose current context names the second engine
    const stack = `${prefix}-ctx`;
    const root = await desiredState(stack);
    const config = join(dir, "docker-config");
    await mkdir(config, { recursive: true });
    const cfgEnv = { PATH: BASE_ENV.PATH, HOME: BASE_ENV.HOME };
    await runCommand("docker", ["--config", config, "context", "create", `${prefix}-ctx`, "--docker", `host=${second.socket}`], {
      timeoutMs: 30_000,
      env: cfgEnv,
    });
    await runCommand("docker", ["--config", config, "context", "use", `${prefix}-ctx`], { timeoutMs: 30_000, env: cfgEnv });

    // Act
    const applied = await cli(["apply", root, "--machine", "box", "--state-dir", join(dir, "state-ctx")], { DOCKER_CONFIG: config });

    // Assert
    expect(applied.err).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(`engine ${second.socket} (docker context ${prefix}-ctx)`);
    await expectOnlyOnSecond(stack);
  }, 180_000);

  it("drives a TCP engine on 127.0.0.1 with TLS verified against a self-signed CA", async () => {
    // Arrange
    const stack = `${prefix}-tls`;
    const root = await desiredState(stack);
    const tls = second.tls;
    if (!tls) throw new Error("the second engine was started without TLS");
    const env = { DOCKER_HOST: tls.host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: tls.clientCertPath };

    // Act
    const applied = await cli(["apply", root, "--machine", "box", "--state-dir", join(dir, "state-tls")], env);
    const wrongCa = join(dir, "wrong-ca");
    await mkdir(wrongCa, { recursive: true });
    await runCommand(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(wrongCa, "key.pem"),
        "-out",
        join(wrongCa, "ca.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=not-the-ca",
      ],
      { timeoutMs: 30_000 },
    );
    await runCommand("cp", [join(wrongCa, "ca.pem"), join(wrongCa, "cert.pem")], { timeoutMs: 5000 });
    const refused = await cli(
      ["status", "--state-dir", join(dir, "state-tls"), "--agent", `http://127.0.0.1:${await freeLoopbackPort()}`],
      { ...env, DOCKER_CERT_PATH: wrongCa },
    );

    // Assert
    expect(applied.err).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(`engine ${tls.host} (DOCKER_HOST, TLS)`);
    await expectOnlyOnSecond(stack);
    // The same engine with a CA that did not sign it: not answering, never silently trusted.
    expect(refused.out).toMatch(
      new RegExp(`engine ${tls.host} \\(DOCKER_HOST, TLS\\)  not answering: .*(certificate|self-signed|self signed)`, "i"),
    );
  }, 180_000);
});
