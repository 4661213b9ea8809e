// Real-engine test, run last: dockerd is restarted under a running agent, which reconnects and brings the service back to healthy and
// Ready.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { condition, createAgentWorld, sleep, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld, RunningAgent } from "../support/agent-harness.ts";

const execFileP = promisify(execFile);

async function dockerdPids(): Promise<string[]> {
  const { stdout } = await execFileP("pidof", ["dockerd"]).catch(() => ({ stdout: "" }));
  return stdout.trim().split(/\s+/).filter(Boolean);
}

async function engineAnswers(): Promise<boolean> {
  return execFileP("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 5000 }).then(
    () => true,
    () => false,
  );
}

/** Exactly as scripts/engine.sh starts it. */
async function startDockerd(): Promise<void> {
  spawn("sh", ["-c", "nohup dockerd >/var/log/dockerd.log 2>&1 &"], { detached: true, stdio: "ignore" }).unref();
  await waitFor("docker info to answer", async () => engineAnswers(), 60_000, 250);
}

describe("agent: dockerd restarted under it", () => {
  let world: AgentWorld;
  let agent: RunningAgent;
  let stack: string;

  beforeAll(async () => {
    world = await createAgentWorld("adockerd");
    stack = world.stackName("app");
    const root = await world.newDir("desired");
    // web has no restart policy (the engine leaves it stopped); api comes back by itself.
    await world.writeTree(root, world.tree({ [stack]: { web: {}, api: { restart: "unless-stopped" } } }));
    agent = await world.start({ "desired-state": root, "state-dir": await world.newDir("state") });
    await waitFor(
      "Ready with web and api healthy",
      async () => {
        const view = await agent.status();
        return (
          condition(view.source?.conditions, "Ready")?.status === "True" && view.services.filter((s) => s.health === "healthy").length === 2
        );
      },
      60_000,
      200,
    );
  });

  afterAll(async () => {
    if (!(await engineAnswers()) && (await dockerdPids()).length === 0) await startDockerd();
    await world?.cleanup();
  });

  it("reconnects after the engine restarts and converges the services back to healthy", async () => {
    const [pid] = await dockerdPids();
    expect(pid).toBeDefined();
    await execFileP("kill", ["-TERM", pid ?? ""]);
    await waitFor("dockerd to exit", async () => (await dockerdPids()).length === 0, 60_000, 200);
    await sleep(1000);
    await startDockerd();
    const restarted = performance.now();

    const view = await waitFor(
      "the agent Ready with web and api healthy again",
      async () => {
        const status = await agent.status();
        const running = (await world.containers(stack)).filter((c) => c.state === "running" && c.health === "healthy");
        return condition(status.source?.conditions, "Ready")?.status === "True" &&
          status.services.filter((s) => s.health === "healthy").length === 2 &&
          running.length === 2
          ? status
          : undefined;
      },
      120_000,
      500,
    ).catch(async (error: unknown) => {
      // What the agent did, so a failure here says why rather than only "timed out".
      const tail = agent.logs
        .filter((l) => l.at >= restarted - 60_000)
        .slice(-80)
        .map(
          (l) =>
            `${l.at.toFixed(0)} ${l.msg} ` +
            `${JSON.stringify({ ...l, at: undefined, msg: undefined, time: undefined, pid: undefined, hostname: undefined })}`,
        );
      const status = await agent.status().catch(() => undefined);
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\nstatus: ${JSON.stringify(status)}\nagent log:\n${tail.join("\n")}`,
      );
    });
    const convergedMs = (performance.now() - restarted).toFixed(0);
    if (process.env["BERTH_TEST_REPORT"]) console.info(`dockerd back → agent converged: ${convergedMs} ms`);
    expect(view.services.map((s) => `${s.service}:${s.health}`).sort()).toEqual(["api:healthy", "web:healthy"]);
    expect(agent.logs.some((l) => l.msg === "docker events stream ended, reconnecting")).toBe(true);
    expect((await fetch(`${agent.url}/readyz`)).status).toBe(200);
  });
});
