// Real-engine test of crash safety: the reconciler is SIGKILLed in the middle of a swap; started
// again, it finishes or reverts the swap from its intent record and the service ends up healthy.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createHarness, docker, startProber, withServices } from "../support/stacks-harness.ts";
import type { Harness, Prober } from "../support/stacks-harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const CHILD = `
import { readFileSync } from "node:fs";
const root = process.argv[3];
const { createDockerEngine } = await import(root + "platform/docker-engine.ts");
const { createComposeCli } = await import(root + "platform/compose-cli.ts");
const { systemClock } = await import(root + "platform/clock.ts");
const { silentLogger } = await import(root + "platform/logger.ts");
const { noEvents } = await import(root + "status/reconcile-events.ts");
const { openStatusStore } = await import(root + "status/status-store.ts");
const { openSharedHostLock } = await import(root + "status/shared-host-lock.ts");
const { createContainerOps } = await import(root + "reconcilers/stacks/container-ops.ts");
const { reconcileStack } = await import(root + "reconcilers/stacks/stack-reconciler.ts");
const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const ctx = { engine: createDockerEngine(), compose: createComposeCli(), store: await openStatusStore(input.stateDir), lock: openSharedHostLock(input.stateDir), clock: systemClock, logger: silentLogger(), events: noEvents, ops: createContainerOps(), machine: "test", profile: {}, state: input.state, imageTags: {}, pollMs: 250, noHealthcheckRunSeconds: 1 };
await reconcileStack(input.stack, ctx);
`;

const children = new Set<ChildProcess>();

/** Runs a reconcile in a separate process and SIGKILLs it once the new container runs beside its intent record. */
async function killMidSwap(h: Harness, desired: StackSpec, image: string): Promise<void> {
  const ctx = await h.context([desired]);
  const input = join(h.dir, "child-input.json");
  const script = join(h.dir, "child.mts");
  await writeFile(input, JSON.stringify({ stateDir: h.stateDir, state: ctx.state, stack: desired.name }));
  await writeFile(script, CHILD);
  const child = spawn(process.execPath, ["--import", "tsx", script, input, ROOT], { cwd: ROOT, stdio: "ignore" });
  children.add(child);
  const imageId = await h.imageId(image);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const intents = existsSync(join(h.stateDir, "intents"))
      ? readdirSync(join(h.stateDir, "intents")).filter((f) => f.endsWith(".json"))
      : [];
    const running = (await h.containers(desired.name)).some((c) => c.imageId === imageId && c.state === "running");
    if (intents.length > 0 && running) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the swap never reached its health wait");
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  children.delete(child);
}

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("stacks: a reconciler killed mid-swap", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let v3: string;
  let stack: StackSpec;

  beforeAll(async () => {
    h = await createHarness("crash");
    [v1, v2, v3] = await Promise.all([
      h.buildVersion("v1"),
      h.buildVersion("v2", { startDelaySeconds: 3 }),
      h.buildVersion("v3", { healthy: false, startDelaySeconds: 1 }),
    ]);
    stack = await h.stack("svc", { web: { image: v1 } });
    expect((await reconcileStack(stack.name, await h.context([stack]))).ready).toBe(true);
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it("finishes a swap to a version that turns healthy", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v2 }));
    await killMidSwap(h, desired, v2);
    expect(readdirSync(join(h.stateDir, "intents")).filter((f) => f.endsWith(".json"))).toHaveLength(1);

    const ctx = await h.context([desired]);
    const result = await reconcileStack(desired.name, ctx);

    expect(result.ready).toBe(true);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(await docker("inspect", "-f", "{{.State.Health.Status}}", running[0]?.id ?? "")).toBe("healthy");
    const status = ctx.store.get(`service/${stack.name}/web`);
    expect(status?.current?.imageId).toBe(await h.imageId(v2));
    expect(status?.history?.[0]?.imageId).toBe(await h.imageId(v1));
    expect(await ctx.store.intents()).toEqual([]);
  });

  it("reverts a swap to a version that turns unhealthy, and says so", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v3 }));
    await killMidSwap(h, desired, v3);

    const ctx = await h.context([desired]);
    const result = await reconcileStack(desired.name, ctx);

    expect(result.ready).toBe(false);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(await docker("inspect", "-f", "{{.State.Health.Status}}", running[0]?.id ?? "")).toBe("healthy");
    const status = ctx.store.get(`service/${stack.name}/web`);
    expect(status?.current?.imageId).toBe(await h.imageId(v2));
    expect(getCondition(status?.conditions ?? [], "Degraded")?.reason).toBe("RolledBack");
    expect(await ctx.store.intents()).toEqual([]);
  });
});

describe("stacks: a reconciler killed mid start-first swap", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let v3: string;
  let stack: StackSpec;
  let prober: Prober;

  beforeAll(async () => {
    h = await createHarness("crashsf");
    [v1, v2, v3] = await Promise.all([
      h.buildVersion("v1"),
      h.buildVersion("v2", { startDelaySeconds: 3 }),
      h.buildVersion("v3", { healthy: false, startDelaySeconds: 1 }),
    ]);
    stack = await h.stack("edge", { web: { image: v1, rollout: { strategy: "start-first", monitorSeconds: 1 } } });
    expect((await reconcileStack(stack.name, await h.context([stack]))).ready).toBe(true);
    prober = await startProber(`${h.prefix}-prober`, `${stack.name}_default`);
  });

  afterAll(async () => {
    await prober?.remove();
    await h?.cleanup();
  });

  it("finishes the swap after the restart, and the service answers every request throughout", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v2 }));
    let ready = false;
    let ctx = await h.context([desired]);

    const counts = await prober.during(async () => {
      await killMidSwap(h, desired, v2);
      ctx = await h.context([desired]);
      ready = (await reconcileStack(desired.name, ctx)).ready;
    });

    expect(ready).toBe(true);
    expect(counts.fail).toBe(0);
    expect(counts.ok).toBeGreaterThan(0);
    const all = await h.containers(stack.name);
    expect(all.map((c) => `${c.imageId}:${c.state}`)).toEqual([`${await h.imageId(v2)}:running`]);
    const status = ctx.store.get(`service/${stack.name}/web`);
    expect(status?.current?.imageId).toBe(await h.imageId(v2));
    expect(status?.history?.[0]?.imageId).toBe(await h.imageId(v1));
    expect(await ctx.store.intents()).toEqual([]);
  });

  it("reverts a swap to a version that never turns healthy, keeping the old container serving throughout", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v3 }));
    let ctx = await h.context([desired]);

    const counts = await prober.during(async () => {
      await killMidSwap(h, desired, v3);
      ctx = await h.context([desired]);
      await reconcileStack(desired.name, ctx);
    });

    expect(counts.fail).toBe(0);
    expect(counts.bodies.has("v2")).toBe(true);
    const all = await h.containers(stack.name);
    expect(all.map((c) => `${c.imageId}:${c.state}`)).toEqual([`${await h.imageId(v2)}:running`]);
    const status = ctx.store.get(`service/${stack.name}/web`);
    expect(status?.current?.imageId).toBe(await h.imageId(v2));
    const degraded = getCondition(status?.conditions ?? [], "Degraded");
    expect(degraded?.reason).toBe("RolledBack");
    expect(degraded?.message).toContain("failed");
    expect(await ctx.store.intents()).toEqual([]);
  });
});
