// E2E harness for the agent: desired-state trees of busybox httpd services, a bare git remote, the agent in-process or as a child, cleanup.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { startAgent } from "../../controller/agent.ts";
import type { Agent } from "../../controller/agent.ts";
import { agentConfig } from "../../controller/agent-config.ts";
import type { StatusView } from "../../controller/status-view.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { createLogger } from "../../platform/logger.ts";
import type { Condition } from "../../status/conditions.ts";
import { ensureBusyboxImage } from "./busybox-image.ts";
import { createSourceRepo } from "./git-fixture.ts";
import type { SourceRepo } from "./git-fixture.ts";
import { freeLoopbackPort } from "./local-registry.ts";
import { docker } from "./stacks-harness.ts";
import { expectStatusInvariants, stateDirViolations } from "./status-invariants.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BERTH_BIN = join(REPO_ROOT, "bin", "berth.cjs");

/** One service: busybox httpd on 8080 with a 1 s HEALTHCHECK; `version` lands in its environment (a change recreates it). */
export type ServiceOptions = {
  version?: string;
  healthy?: boolean;
  restart?: string;
  /** Health stays "starting" this long after every (re)start. */ startDelaySeconds?: number;
};

export type TreeOptions = { allowEmpty?: boolean };

export type LogLine = { at: number; msg: string; [field: string]: unknown };

export type RunningAgent = {
  agent: Agent;
  url: string;
  logs: LogLine[];
  status(): Promise<StatusView>;
  metrics(): Promise<string>;
  /** The first log line with `msg` written after `since` (performance.now()), waiting up to `timeoutMs`. */
  waitForLog(msg: string, since: number, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
};

export type AgentWorld = {
  prefix: string;
  dir: string;
  /** A stack name unique to this world (also its compose project). */
  stackName(short: string): string;
  /** The files of a desired-state root: berth.yaml (machine "test"), its profile and one compose file per stack. */
  tree(stacks: Record<string, Record<string, ServiceOptions>>, options?: TreeOptions): Record<string, string>;
  writeTree(root: string, files: Record<string, string | null>): Promise<void>;
  newDir(name: string): Promise<string>;
  /** A source repo and a bare remote it pushes to (`url` is file://). */
  gitRemote(name: string): Promise<{ source: SourceRepo; bare: string; url: string; push(): Promise<void> }>;
  start(flags: Record<string, string | boolean>): Promise<RunningAgent>;
  /** `node bin/berth.cjs agent …` as a child process listening on a free port. */
  spawnAgent(flags: Record<string, string>): Promise<{
    child: ChildProcess;
    url: string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    output(): string;
  }>;
  containers(stack: string): Promise<Array<{ id: string; service: string; state: string; health: string }>>;
  cleanup(): Promise<void>;
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined/false; fails with `what` and the last value seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error instanceof Error ? error.message : error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(pollMs);
  }
}

export function condition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function postWebhook(url: string, secret: string, options: { badSignature?: boolean } = {}): Promise<number> {
  const body = JSON.stringify({ ref: "refs/heads/main" });
  const signature = options.badSignature ? webhookSignature(body, `${secret}-wrong`) : webhookSignature(body, secret);
  const res = await fetch(`${url}/hooks/git`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
    body,
  });
  await res.body?.cancel();
  return res.status;
}

export async function fetchStatus(url: string): Promise<StatusView> {
  const res = await fetch(`${url}/api/v1/status`);
  if (res.status !== 200) throw new Error(`GET /api/v1/status answered ${res.status}`);
  return (await res.json()) as StatusView;
}

function composeFile(services: Record<string, ServiceOptions>): string {
  const doc = {
    services: Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        {
          image: "berth-test/busybox:1",
          command: [
            "sh",
            "-c",
            `${s.startDelaySeconds ? `sleep ${s.startDelaySeconds}; ` : ""}mkdir -p ` +
              `/www${s.healthy === false ? "" : " && echo ok > /www/health"} && exec httpd -f -p 8080 -h /www`,
          ],
          environment: { VERSION: s.version ?? "v1" },
          stop_grace_period: "1s",
          ...(s.restart ? { restart: s.restart } : {}),
          healthcheck: {
            test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"],
            interval: "1s",
            timeout: "1s",
            retries: 2,
            ...(s.startDelaySeconds ? { start_period: `${s.startDelaySeconds + 5}s` } : {}),
          },
        },
      ]),
    ),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function createAgentWorld(label: string): Promise<AgentWorld> {
  await ensureBusyboxImage();
  const prefix = `berth-t-${label}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const stacks = new Set<string>();
  const agents: RunningAgent[] = [];
  const children: ChildProcess[] = [];
  /** State dirs of the agents started here, and the status invariants their records broke (checked on every status()). */
  const stateDirs = new Set<string>();
  const violations: string[] = [];
  const engine = createDockerEngine();

  const world: AgentWorld = {
    prefix,
    dir,
    stackName(short) {
      const name = `${prefix}-${short}`;
      stacks.add(name);
      return name;
    },
    tree(stackMap, options = {}) {
      const files: Record<string, string> = {
        "berth.yaml":
          `version: 1\nmachines:\n  test: { profile: test }\nrollout: { healthTimeout: 30s, monitor: 1s ` +
          `}\n${options.allowEmpty ? "allowEmpty: true\n" : ""}`,
        "profiles/test.json": "{}\n",
      };
      for (const [name, services] of Object.entries(stackMap)) files[`stacks/${name}/compose.yaml`] = composeFile(services);
      return files;
    },
    async writeTree(root, files) {
      for (const [name, content] of Object.entries(files)) {
        const file = join(root, name);
        if (content === null) await rm(file, { force: true, recursive: true });
        else {
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, content);
        }
      }
    },
    async newDir(name) {
      const path = join(dir, name);
      await mkdir(path, { recursive: true });
      return path;
    },
    async gitRemote(name) {
      const bare = join(dir, `${name}.git`);
      const source = await createSourceRepo(join(dir, `${name}-src`));
      await source.git(["init", "-q", "--bare", "-b", "main", bare]);
      return {
        source,
        bare,
        url: `file://${bare}`,
        push: async () => void (await source.git(["push", "-q", "--force", bare, "HEAD:refs/heads/main"])),
      };
    },
    async start(flags) {
      const parsed = agentConfig(
        { positionals: [], flags: { listen: "127.0.0.1:0", machine: "test", "fetch-interval": "3600", "log-level": "debug", ...flags } },
        {},
      );
      if (!parsed.ok) throw new Error(parsed.message);
      const logs: LogLine[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          const at = performance.now();
          for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
            try {
              logs.push({
                ...(JSON.parse(line) as Record<string, unknown>),
                at,
                msg: String((JSON.parse(line) as { msg?: unknown }).msg ?? ""),
              });
            } catch {
              logs.push({ at, msg: line });
            }
          }
          callback();
        },
      });
      const agent = await startAgent(parsed.config, { logger: createLogger({ level: parsed.config.logLevel, destination }) });
      const url = `http://${agent.address ?? ""}`;
      const stateDir = parsed.config.stateDir;
      stateDirs.add(stateDir);
      let stopped = false;
      const running: RunningAgent = {
        agent,
        url,
        logs,
        async status() {
          const view = await fetchStatus(url);
          violations.push(...(await stateDirViolations(stateDir)));
          return view;
        },
        async metrics() {
          const res = await fetch(`${url}/metrics`);
          return res.text();
        },
        async waitForLog(msg, since, timeoutMs = 30_000) {
          return waitFor(`log line "${msg}"`, async () => logs.find((l) => l.msg === msg && l.at >= since), timeoutMs, 5);
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          await agent.stop();
        },
      };
      agents.push(running);
      return running;
    },
    async spawnAgent(flags) {
      const port = await freeLoopbackPort();
      const all: Record<string, string> = { listen: `127.0.0.1:${port}`, machine: "test", ...flags };
      if (all["state-dir"]) stateDirs.add(all["state-dir"]);
      const args = ["agent", ...Object.entries(all).flatMap(([k, v]) => [`--${k}`, v])];
      // The launcher itself, so its shebang's V8 flags apply as on a real host.
      const child = spawn(BERTH_BIN, args, {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, BERTH_LOG_LEVEL: "info" },
      });
      children.push(child);
      let output = "";
      const keep = (chunk: Buffer): void => void (output = (output + chunk.toString("utf8")).slice(-20_000));
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
      );
      const url = `http://${all["listen"] ?? ""}`;
      await waitFor(
        `the agent child to answer on ${url} (output: ${output.slice(-500)})`,
        async () => {
          if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${output.slice(-2000)}`);
          const res = await fetch(`${url}/healthz`);
          return res.status === 200;
        },
        30_000,
        100,
      );
      return { child, url, exited, output: () => output };
    },
    async containers(stack) {
      const list = await engine.listContainers({ label: [`com.docker.compose.project=${stack}`] });
      return list.map((c) => ({ id: c.id, service: c.labels["com.docker.compose.service"] ?? "", state: c.state, health: c.health }));
    },
    async cleanup() {
      for (const running of agents) await running.stop().catch(() => undefined);
      if (process.env["BERTH_TEST_LOGS"])
        for (const running of agents)
          for (const l of running.logs)
            console.info(
              `${l.at.toFixed(0)} ${l.msg} ` +
                JSON.stringify({ ...l, at: undefined, msg: undefined, time: undefined, app: undefined, level: undefined, pid: undefined }),
            );
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      for (const project of stacks) {
        await docker("compose", "-p", project, "down", "--remove-orphans", "-t", "1").catch(() => "");
        const ids = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`).catch(() => ""))
          .split("\n")
          .filter(Boolean);
        if (ids.length > 0) await docker("rm", "-f", ...ids).catch(() => "");
        const tags = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${project}-*`).catch(() => ""))
          .split("\n")
          .filter(Boolean);
        for (const tag of tags) await docker("rmi", tag).catch(() => "");
      }
      const broken = await expectStatusInvariants(stateDirs, violations).catch((error: unknown) => error);
      await rm(dir, { recursive: true, force: true });
      if (broken) throw broken;
    },
  };
  return world;
}
