// Real-engine tests of the agent on a watched directory: a lost state dir is rebuilt from the engine, a container removed by hand comes
// back, a symlink swap starts a pass.
import { readdir, rename, rm, symlink, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../support/stacks-harness.ts";
import { condition, createAgentWorld, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld, RunningAgent } from "../support/agent-harness.ts";

async function readyAndHealthy(agent: RunningAgent, stack: string, services: string[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `Ready and ${services.join(", ")} healthy`,
    async () => {
      const view = await agent.status();
      const healthy = services.every((name) => view.services.find((s) => s.stack === stack && s.service === name)?.health === "healthy");
      return condition(view.source?.conditions, "Ready")?.status === "True" && healthy;
    },
    timeoutMs,
    200,
  );
}

describe("agent: state dir lost while stopped", () => {
  let world: AgentWorld;
  let stack: string;
  let root: string;
  let stateDir: string;

  beforeAll(async () => {
    world = await createAgentWorld("astate");
    stack = world.stackName("app");
    root = await world.newDir("desired");
    await world.writeTree(root, world.tree({ [stack]: { web: {}, api: {} } }));
    stateDir = await world.newDir("state");
    const agent = await world.start({ "desired-state": root, "state-dir": stateDir });
    await readyAndHealthy(agent, stack, ["web", "api"]);
    await agent.stop();
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  async function ids(): Promise<string[]> {
    return (await world.containers(stack)).map((c) => `${c.service}:${c.id}:${c.state}`).sort();
  }

  it("rebuilds truncated status files from the engine without recreating healthy containers", async () => {
    const before = await ids();
    const statusDir = join(stateDir, "status");
    const files = await readdir(statusDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) await truncate(join(statusDir, file), 0);
    const agent = await world.start({ "desired-state": root, "state-dir": stateDir });
    await readyAndHealthy(agent, stack, ["web", "api"]);
    await agent.agent.idle();
    const view = await agent.status();
    expect(view.services.map((s) => `${s.service}:${s.health}:${condition(s.conditions, "Ready")?.status ?? "-"}`).sort()).toEqual([
      "api:healthy:True",
      "web:healthy:True",
    ]);
    expect(agent.logs.some((l) => l.msg === "unreadable state file skipped")).toBe(true);
    expect(await ids()).toEqual(before);
    await agent.stop();
  });

  it("rebuilds a deleted state dir from the engine's labels without recreating healthy containers", async () => {
    const before = await ids();
    await rm(stateDir, { recursive: true, force: true });
    const agent = await world.start({ "desired-state": root, "state-dir": stateDir });
    await readyAndHealthy(agent, stack, ["web", "api"]);
    await agent.agent.idle();
    const view = await agent.status();
    expect(view.services.map((s) => `${s.service}:${s.health}`).sort()).toEqual(["api:healthy", "web:healthy"]);
    expect(await ids()).toEqual(before);
    await agent.stop();
  });
});

describe("agent: watched directory", () => {
  let world: AgentWorld;
  let agent: RunningAgent;
  let stack: string;
  let link: string;

  beforeAll(async () => {
    world = await createAgentWorld("awatch");
    stack = world.stackName("web");
    const trees = await world.newDir("trees");
    await world.writeTree(join(trees, "a"), world.tree({ [stack]: { web: { version: "a" } } }));
    link = join(world.dir, "current");
    await symlink(join(trees, "a"), link);
    agent = await world.start({ "desired-state": link, "state-dir": await world.newDir("state") });
    await readyAndHealthy(agent, stack, ["web"]);
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("brings back a container removed by hand within 2 s of its destroy event", async () => {
    const [web] = (await world.containers(stack)).filter((c) => c.service === "web");
    await agent.agent.idle();
    await docker("rm", "-f", web?.id ?? "");
    const destroyed = performance.now();
    const back = await waitFor(
      "a new running web container",
      async () => (await world.containers(stack)).find((c) => c.service === "web" && c.state === "running" && c.id !== web?.id),
      10_000,
      25,
    );
    const runningAfterMs = performance.now() - destroyed;
    if (process.env["BERTH_TEST_REPORT"]) console.info(`destroy → replacement running: ${runningAfterMs.toFixed(0)} ms`);
    expect(runningAfterMs).toBeLessThanOrEqual(2000);
    await readyAndHealthy(agent, stack, ["web"]);
    expect((await world.containers(stack)).map((c) => c.id)).toEqual([back.id]);
  });

  it("leaves another agent's containers on the same engine alone and records nothing about them", async () => {
    // Arrange: a container labelled as berth's, for a stack this agent never ran
    const foreign = world.stackName("other");
    const name = `${foreign}-web-1`;
    await docker(
      "run",
      "-d",
      "--name",
      name,
      "--label",
      "io.berth.managed=true",
      "--label",
      `io.berth.stack=${foreign}`,
      "--label",
      `com.docker.compose.project=${foreign}`,
      "--label",
      "com.docker.compose.service=web",
      "berth-test/busybox:1",
      "sleep",
      "600",
    );
    await agent.agent.idle();
    const since = performance.now();

    // Act: it stops (a die event with berth's labels)
    await docker("stop", "-t", "0", name);
    await new Promise((r) => setTimeout(r, 1500));
    await agent.agent.idle();

    // Assert: not restarted, no status for it, and no pass or stack reconcile started for it
    expect(await docker("inspect", "-f", "{{.State.Status}}", name)).toBe("exited");
    const view = await agent.status();
    expect(view.stacks.map((s) => s.stack)).toEqual([stack]);
    expect(agent.logs.filter((l) => l.at >= since && JSON.stringify(l).includes(foreign))).toEqual([]);
    await docker("rm", "-f", name);
  });

  it("starts a pass when the desired-state symlink is swapped to a new tree", async () => {
    const before = (await world.containers(stack)).map((c) => c.id);
    await world.writeTree(join(world.dir, "trees", "b"), world.tree({ [stack]: { web: { version: "b" } } }));
    await agent.agent.idle();
    const temp = `${link}.tmp`;
    await symlink(join(world.dir, "trees", "b"), temp);
    const swapped = performance.now();
    await rename(temp, link);
    const loaded = await agent.waitForLog("desired state loaded", swapped, 10_000);
    if (process.env["BERTH_TEST_REPORT"]) console.info(`symlink swap → desired state loaded: ${(loaded.at - swapped).toFixed(0)} ms`);
    // 100 ms debounce plus one `docker compose config`; the bench records the exact number.
    expect(loaded.at - swapped).toBeLessThan(1500);
    await readyAndHealthy(agent, stack, ["web"]);
    await waitFor(
      "the web container replaced",
      async () => {
        const now = await world.containers(stack);
        return now.length === 1 && !before.includes(now[0]?.id ?? "") && now[0]?.health === "healthy";
      },
      30_000,
      200,
    );
  });
});

describe("agent: a service still starting when a pass ends", () => {
  let world: AgentWorld;

  beforeAll(async () => {
    world = await createAgentWorld("astarting");
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("turns the host Ready when the service becomes healthy, without waiting for the next pass", async () => {
    // Arrange: a service that stays "starting" for 8 s after every start, restarted while no agent runs
    const stack = world.stackName("slow");
    const root = await world.newDir("desired");
    await world.writeTree(root, world.tree({ [stack]: { web: { startDelaySeconds: 8 } } }));
    const stateDir = await world.newDir("state");
    const first = await world.start({ "desired-state": root, "state-dir": stateDir });
    await readyAndHealthy(first, stack, ["web"]);
    await first.stop();
    const [web] = await world.containers(stack);
    await docker("restart", "-t", "1", web?.id ?? "");

    // Act: the agent starts; its pass finds the service starting
    const agent = await world.start({ "desired-state": root, "state-dir": stateDir });
    await agent.waitForLog("pass complete", 0, 30_000);

    // Assert: the pass ended not ready, and the host turned Ready on the service's health event
    expect(agent.logs.find((l) => l.msg === "pass complete")?.["ok"]).toBe(false);
    await readyAndHealthy(agent, stack, ["web"], 30_000);
    expect(agent.logs.filter((l) => l.msg === "pass complete")).toHaveLength(1);
    expect((await world.containers(stack)).map((c) => c.id)).toEqual([web?.id]);
  });
});
