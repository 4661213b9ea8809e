// Real engine, real processes: `berth apply` takes the state dir's host lock like the agent and prune
// do, so it waits for a prune, a prune waits for its swap (and does not slip in between its images and
// its stacks), and it never swaps beside an agent's pass. The world after each run is what is checked.
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand, imagesReconcilerStep } from "../../controller/commands/apply-command.ts";
import { pruneCommand } from "../../controller/commands/prune-command.ts";
import { loadForCli } from "../../controller/load-for-cli.ts";
import { systemClock } from "../../platform/clock.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { silentLogger } from "../../platform/logger.ts";
import { runPrune } from "../../reconcilers/prune/prune-reconciler.ts";
import type { PruneReport } from "../../reconcilers/prune/prune-reconciler.ts";
import { LOCK_FILE } from "../../status/host-lock.ts";
import type { LockOwner } from "../../status/host-lock.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { BERTH_BIN, condition, createAgentWorld, REPO_ROOT, sleep, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld } from "../support/agent-harness.ts";
import { removeBuiltStack } from "../support/remove-built-stack.ts";
import { docker } from "../support/stacks-harness.ts";

type BerthRun = { pid: number; exited: Promise<number | null>; stdout(): string; stderr(): string };

/** `node bin/berth.cjs …` as its own process. */
function spawnBerth(args: string[]): BerthRun {
  const child = spawn(BERTH_BIN, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, BERTH_LOG_LEVEL: "warn" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { pid: child.pid ?? -1, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Who held the state dir's lock file, sampled every 20 ms until `stop()`. */
function sampleHolders(stateDir: string): { samples: Array<LockOwner & { at: number }>; stop(): Promise<void> } {
  const samples: Array<LockOwner & { at: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const text = await readFile(join(stateDir, LOCK_FILE), "utf8").catch(() => "");
      try {
        if (text) samples.push({ ...(JSON.parse(text) as LockOwner), at: Date.now() });
      } catch {
        // a writer between open and write: next sample
      }
      await sleep(20);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function intentsLeft(stateDir: string): Promise<string[]> {
  return readdir(join(stateDir, "intents")).catch(() => []);
}

async function envOf(id: string): Promise<string> {
  return docker("inspect", "-f", '{{join .Config.Env " "}}', id);
}

describe("host lock across berth apply, berth prune and the agent (real engine)", () => {
  let world: AgentWorld;

  beforeAll(async () => {
    world = await createAgentWorld("lock");
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("makes berth apply wait while a prune holds the host lock, then complete", async () => {
    // Arrange: a prune of this process that took the host lock and is paused in its engine look
    const stack = world.stackName("lock-a");
    const root = await world.newDir("lock-desired-a");
    await world.writeTree(root, world.tree({ [stack]: { web: {} } }));
    const stateDir = await world.newDir("lock-state-a");
    const loaded = await loadForCli(root);
    if (!loaded.ok) throw new Error("fixture tree invalid");
    const engine = createDockerEngine();
    let tookLock!: () => void;
    const lockTaken = new Promise<void>((resolve) => (tookLock = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const prune = runPrune(
      {
        engine: {
          removeImage: engine.removeImage,
          inspectImage: engine.inspectImage,
          observe: async (signal) => (tookLock(), await gate, engine.observe(signal)),
        },
        store: await openStatusStore(stateDir),
        lock: openSharedHostLock(stateDir),
        logger: silentLogger(),
        events: noEvents,
        clock: systemClock,
      },
      {
        state: loaded.state,
        machine: "test",
        dryRun: true,
        scope: { repositories: [`${world.prefix}/`], dangling: false, buildCache: false },
      },
    );
    await lockTaken;

    // Act
    const apply = spawnBerth(["apply", root, "--machine", "test", "--state-dir", stateDir]);
    await waitFor(
      "berth apply to say it waits for the lock",
      async () => apply.stderr().includes("waiting up to 600 s for the host lock"),
      30_000,
    );
    await sleep(1_000);
    const containersWhilePruning = await world.containers(stack);
    openGate();
    await prune;
    const code = await apply.exited;

    // Assert: apply named the prune, started nothing while it ran, then applied the stack
    expect(apply.stderr()).toContain(`held by pid ${process.pid}`);
    expect(apply.stderr()).toContain("(prune --dry-run)");
    expect(containersWhilePruning).toEqual([]);
    expect(code, apply.stderr()).toBe(0);
    expect(apply.stdout()).toContain("test: Ready (1 stacks, 1 services, 1 changed)");
    expect((await world.containers(stack)).map((c) => [c.service, c.state, c.health])).toEqual([["web", "running", "healthy"]]);
  });

  it("makes berth prune wait until berth apply's swap has finished", async () => {
    // Arrange: the stack runs v1; apply swaps it to a v2 that stays "starting" for 4 s
    const stack = world.stackName("lock-b");
    const root = await world.newDir("lock-desired-b");
    const stateDir = await world.newDir("lock-state-b");
    await world.writeTree(root, world.tree({ [stack]: { web: { version: "v1" } } }));
    expect(await spawnBerth(["apply", root, "--machine", "test", "--state-dir", stateDir]).exited).toBe(0);
    await world.writeTree(root, world.tree({ [stack]: { web: { version: "v2", startDelaySeconds: 4 } } }));
    const holders = sampleHolders(stateDir);
    const apply = spawnBerth(["apply", root, "--machine", "test", "--state-dir", stateDir]);
    await waitFor(
      "berth apply to be mid-swap",
      async () =>
        holders.samples.some((s) => s.pid === apply.pid && s.purpose === "apply machine test") && (await intentsLeft(stateDir)).length > 0,
      60_000,
      20,
    );

    // Act
    const calledAt = Date.now();
    let stdout = "";
    const pruneCode = await pruneCommand.run(
      {
        positionals: [root],
        flags: {
          machine: "test",
          "state-dir": stateDir,
          repository: [`berth-rollback/${stack}`],
          "skip-dangling": true,
          "skip-build-cache": true,
          json: true,
        },
      },
      { stdout: (t) => void (stdout += t), stderr: () => undefined, env: { BERTH_LOG_LEVEL: "silent" } },
    );
    const applyCode = await apply.exited;
    await holders.stop();

    // Assert: prune was called during the swap and began only after apply let go of the lock
    const report = JSON.parse(stdout) as PruneReport;
    const applyHeldUntil = Math.max(...holders.samples.filter((s) => s.pid === apply.pid).map((s) => s.at));
    expect(pruneCode).toBe(0);
    expect(applyCode, apply.stderr()).toBe(0);
    expect(calledAt).toBeLessThan(applyHeldUntil);
    expect(report.startedAt).toBeGreaterThanOrEqual(applyHeldUntil);
    expect(report.removedImages).toBe(0);
    const [web, ...others] = await world.containers(stack);
    expect(others).toEqual([]);
    expect([web?.state, web?.health]).toEqual(["running", "healthy"]);
    expect(await envOf(web?.id ?? "")).toContain("VERSION=v2");
    expect(await intentsLeft(stateDir)).toEqual([]);
  });

  it("lets berth apply and a running agent on one state dir take turns, never swapping side by side", async () => {
    // Arrange: an agent runs the stack at v1
    const stack = world.stackName("lock-c");
    const root = await world.newDir("lock-desired-c");
    const stateDir = await world.newDir("lock-state-c");
    await world.writeTree(root, world.tree({ [stack]: { web: { version: "v1" }, api: { version: "v1" } } }));
    const agent = await world.start({ "desired-state": root, "state-dir": stateDir });
    await waitFor(
      "the agent's first pass",
      async () => condition((await agent.status()).source?.conditions, "Ready")?.status === "True",
      60_000,
      200,
    );

    // Act: v2 lands; the agent (watching the directory) and berth apply both reconcile it
    const holders = sampleHolders(stateDir);
    await world.writeTree(
      root,
      world.tree({ [stack]: { web: { version: "v2", startDelaySeconds: 3 }, api: { version: "v2", startDelaySeconds: 3 } } }),
    );
    const apply = spawnBerth(["apply", root, "--machine", "test", "--state-dir", stateDir]);
    const applyCode = await apply.exited;
    await waitFor(
      "the agent's pass of v2",
      async () => {
        const view = await agent.status();
        return (
          condition(view.source?.conditions, "Ready")?.status === "True" &&
          view.services.filter((s) => s.stack === stack && s.health === "healthy").length === 2
        );
      },
      60_000,
      200,
    );
    await agent.agent.idle();
    await holders.stop();

    // Assert: only the two took the lock, each in turn; both finished; one healthy v2 container per service; no swap left half-done
    expect(applyCode, apply.stderr()).toBe(0);
    expect(holders.samples.some((s) => s.pid === apply.pid)).toBe(true);
    expect(holders.samples.every((s) => s.pid === apply.pid || s.pid === process.pid)).toBe(true);
    expect(
      holders.samples.every((s) =>
        s.pid === apply.pid
          ? s.purpose === "apply machine test"
          : s.purpose === "build images for test" || s.purpose === `reconcile stack ${stack}`,
      ),
    ).toBe(true);
    const containers = await world.containers(stack);
    expect(containers.map((c) => [c.service, c.state, c.health]).sort()).toEqual([
      ["api", "running", "healthy"],
      ["web", "running", "healthy"],
    ]);
    for (const c of containers) expect(await envOf(c.id)).toContain("VERSION=v2");
    expect(await intentsLeft(stateDir)).toEqual([]);
    expect(
      agent.logs.filter((l) => l.msg === "reconcile failed, retrying" || l.msg === "reconcile stopped until the desired state changes"),
    ).toEqual([]);
  });

  it("keeps the host lock from berth apply's images to its stacks: a prune asked between them plans the new version in use", async () => {
    // Arrange: the stack runs v1 of an image berth builds; v2 is written
    const stack = world.stackName("lock-d");
    const service = `${world.prefix}-app`;
    const root = await world.newDir("lock-desired-d");
    const stateDir = await world.newDir("lock-state-d");
    const io = { stdout: () => undefined, stderr: () => undefined, env: { BERTH_LOG_LEVEL: "silent" } };
    const args = { positionals: [root], flags: { machine: "test", "state-dir": stateDir } };
    const writeApp = (version: string) =>
      world.writeTree(root, {
        ...world.tree({}),
        [`stacks/${stack}/compose.yaml`]: `services:\n  ${service}:\n    build: ./app\n    stop_grace_period: 1s\n`,
        [`stacks/${stack}/app/www/health`]: "ok\n",
        [`stacks/${stack}/app/Dockerfile`]: [
          "FROM berth-test/busybox:1",
          `ENV VERSION=${version}`,
          "COPY www /www",
          "HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1",
          'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
          "",
        ].join("\n"),
      });
    try {
      await writeApp("v1");
      expect(await createApplyCommand().run(args, io)).toBe(0);
      const [before] = await world.containers(stack);
      const v1 = await docker("inspect", "-f", "{{.Image}}", before?.id ?? "");
      await writeApp("v2");

      // Act: right after apply's images step (v2 built, nothing swapped yet), a `berth prune` is asked
      // and given a second (ten lock polls) to slip in before the stacks step
      let pruneOut = "";
      let pruned: Promise<number> | undefined;
      let whenAsked: { intents: string[]; containers: string[] } | undefined;
      const apply = createApplyCommand({
        resolveImages: async (input) => {
          const images = await imagesReconcilerStep(input);
          whenAsked = { intents: await intentsLeft(stateDir), containers: (await world.containers(stack)).map((c) => c.id) };
          pruned = pruneCommand.run(
            {
              positionals: [root],
              flags: {
                ...args.flags,
                "dry-run": true,
                repository: [`berth/${service}:`, `berth-rollback/${stack}-`],
                "skip-dangling": true,
                "skip-build-cache": true,
                json: true,
              },
            },
            { ...io, stdout: (t) => void (pruneOut += t) },
          );
          await sleep(1_000);
          return images;
        },
      });
      const applyCode = await apply.run(args, io);
      const pruneCode = await pruned;

      // Assert: prune planned with v2 already running (in use), the v1 image kept for rollback
      const report = JSON.parse(pruneOut) as PruneReport;
      const [web, ...others] = await world.containers(stack);
      const v2 = await docker("inspect", "-f", "{{.Image}}", web?.id ?? "");
      expect(whenAsked).toEqual({ intents: [], containers: [before?.id] });
      expect([applyCode, pruneCode]).toEqual([0, 0]);
      expect(others).toEqual([]);
      expect(await envOf(web?.id ?? "")).toContain("VERSION=v2");
      expect(report.candidates).toEqual([]);
      expect(report.kept.find((k) => k.imageId === v2)?.rules).toContain("in-use");
      expect(report.kept.find((k) => k.imageId === v1)?.rules).not.toContain("in-use");
    } finally {
      await removeBuiltStack(stack, service);
    }
  });
});
