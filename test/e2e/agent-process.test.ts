// Real-engine test of `berth agent` as a process: `berth status --json` shows the applied state, and SIGTERM mid-rollout exits 0 within 30
// s.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusView } from "../../controller/status-view.ts";
import { BERTH_BIN, REPO_ROOT, condition, createAgentWorld, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld } from "../support/agent-harness.ts";

const execFileP = promisify(execFile);

async function berthStatus(url: string): Promise<StatusView> {
  const { stdout } = await execFileP(process.execPath, [BERTH_BIN, "status", "--json", "--agent", url], {
    cwd: REPO_ROOT,
    timeout: 30_000,
  });
  return JSON.parse(stdout) as StatusView;
}

describe("agent process", () => {
  let world: AgentWorld;

  beforeAll(async () => {
    world = await createAgentWorld("aproc");
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("exits 0 within 30 s of SIGTERM, even in the middle of a rollout, and leaves the services running", async () => {
    const stack = world.stackName("web");
    const root = await world.newDir("desired");
    await world.writeTree(root, world.tree({ [stack]: { web: { version: "v1" } } }));
    const agent = await world.spawnAgent({ "desired-state": root, "state-dir": await world.newDir("state") });
    const applied = await waitFor(
      "berth status --json to say Ready",
      async () => {
        const view = await berthStatus(agent.url);
        return condition(view.source?.conditions, "Ready")?.status === "True" &&
          view.services.find((s) => s.service === "web")?.health === "healthy"
          ? view
          : undefined;
      },
      90_000,
      500,
    );
    expect(applied.ready).toBe(true);

    // A version that never gets healthy: the rollout waits up to its 30 s health timeout.
    await world.writeTree(root, world.tree({ [stack]: { web: { version: "v2", healthy: false } } }));
    await waitFor("the rollout to start", async () => agent.output().includes("service swap started"), 30_000, 50);
    const signalled = performance.now();
    agent.child.kill("SIGTERM");
    const exit = await Promise.race([agent.exited, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 30_000))]);
    const exitMs = performance.now() - signalled;
    if (process.env["BERTH_TEST_REPORT"]) console.info(`SIGTERM → exit: ${exitMs.toFixed(0)} ms`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThanOrEqual(30_000);
    expect(agent.output()).toContain("shutting down");
    expect((await world.containers(stack)).some((c) => c.service === "web" && c.state === "running")).toBe(true);
  });

  it("exits 1 from --once when the desired state is invalid, and 0 once it applies", async () => {
    const stack = world.stackName("once");
    const root = await world.newDir("desired-once");
    const stateDir = await world.newDir("state-once");
    await world.writeTree(root, { ...world.tree({ [stack]: { web: {} } }), "berth.yaml": "version: 2\n" });
    const once = (): Promise<number | null> =>
      new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [BERTH_BIN, "agent", "--once", "--desired-state", root, "--state-dir", stateDir, "--machine", "test", "--log-level", "silent"],
          { cwd: REPO_ROOT, stdio: "ignore" },
        );
        child.once("exit", (code) => resolve(code));
      });
    expect(await once()).toBe(1);
    expect(await world.containers(stack)).toEqual([]);
    await world.writeTree(root, world.tree({ [stack]: { web: {} } }));
    expect(await once()).toBe(0);
    expect((await world.containers(stack)).map((c) => `${c.service}:${c.state}:${c.health}`)).toEqual(["web:running:healthy"]);
  });
});
