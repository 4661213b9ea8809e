// Real-engine test of crash safety: the reconciler is SIGKILLed in the middle of a swap (in its
// health wait, and right after each recorded phase); started again, it finishes or reverts the swap
// from its intent record and the service ends up healthy.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import type { SwapIntent, SwapPhase } from "../../status/swap-intent.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import type { CrashChildInput } from "../support/stacks-crash-child.ts";
import { createHarness, docker, startProber, withServices } from "../support/stacks-harness.ts";
import type { Harness, Prober } from "../support/stacks-harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHILD = fileURLToPath(new URL("../support/stacks-crash-child.ts", import.meta.url));

const children = new Set<ChildProcess>();

/** Starts a reconcile of `desired` in a separate process; with `crashAt`, it SIGKILLs itself right after recording that phase. */
async function startChild(h: Harness, desired: StackSpec, crashAt?: SwapPhase): Promise<ChildProcess> {
  const ctx = await h.context([desired]);
  const input = join(h.dir, "child-input.json");
  await writeFile(input, JSON.stringify({ stateDir: h.stateDir, state: ctx.state, stack: desired.name } satisfies CrashChildInput));
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, input, ...(crashAt ? [crashAt] : [])], { cwd: ROOT, stdio: "ignore" });
  children.add(child);
  return child;
}

async function reap(child: ChildProcess): Promise<NodeJS.Signals | null> {
  const signal =
    child.exitCode !== null || child.signalCode !== null
      ? child.signalCode
      : await new Promise<NodeJS.Signals | null>((r) => child.once("exit", (_code, s) => r(s)));
  children.delete(child);
  return signal;
}

function intentFiles(h: Harness): string[] {
  const dir = join(h.stateDir, "intents");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
}

/** Runs a reconcile in a separate process and SIGKILLs it once the new container runs beside its intent record. */
async function killMidSwap(h: Harness, desired: StackSpec, image: string): Promise<void> {
  const child = await startChild(h, desired);
  const imageId = await h.imageId(image);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const running = (await h.containers(desired.name)).some((c) => c.imageId === imageId && c.state === "running");
    if (intentFiles(h).length > 0 && running) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the swap never reached its health wait");
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  await reap(child);
}

/** Runs a reconcile in a separate process that dies by SIGKILL right after its swap records `phase`. */
async function crashAfter(h: Harness, desired: StackSpec, phase: SwapPhase): Promise<void> {
  const child = await startChild(h, desired, phase);
  expect(await reap(child)).toBe("SIGKILL");
  const files = intentFiles(h);
  expect(files).toHaveLength(1);
  const intent = JSON.parse(readFileSync(join(h.stateDir, "intents", files[0] ?? ""), "utf8")) as SwapIntent;
  expect(intent.phase).toBe(phase);
}

/** A desired version of the stack's one service, with its own spec (a failed spec is held, so each case needs its own). */
function version(stack: StackSpec, image: string, label: string): StackSpec {
  return withServices(stack, (s) => ({ ...s, image, config: { ...s.config, environment: { BERTH_TEST_CASE: label } } }));
}

/** The image id the stack's web service runs now, and the one of the two healthy versions it does not run. */
async function nextHealthy(h: Harness, stack: StackSpec, v1: string, v2: string): Promise<{ before: string; image: string }> {
  const before = (await h.context([stack])).store.get({ kind: "service", stack: stack.name, service: "web" })?.current?.imageId ?? "";
  return { before, image: before === (await h.imageId(v1)) ? v2 : v1 };
}

const FINISHED: SwapPhase[] = ["Intended", "Created", "Healthy", "CutOver", "Done"];
const REVERTED: SwapPhase[] = ["Intended", "Created", "RolledBack"];

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
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
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
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    expect(status?.current?.imageId).toBe(await h.imageId(v2));
    expect(getCondition(status?.conditions ?? [], "Degraded")?.reason).toBe("RolledBack");
    expect(await ctx.store.intents()).toEqual([]);
  });

  it.each(FINISHED)("finishes a swap killed right after it recorded %s", async (phase) => {
    const { before, image } = await nextHealthy(h, stack, v1, v2);
    const desired = version(stack, image, phase);
    await crashAfter(h, desired, phase);

    const ctx = await h.context([desired]);
    const result = await reconcileStack(desired.name, ctx);

    expect(result.ready).toBe(true);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(image)]);
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    expect(status?.current?.imageId).toBe(await h.imageId(image));
    expect(status?.history?.[0]?.imageId).toBe(before);
    expect(await ctx.store.intents()).toEqual([]);
  });

  it.each(REVERTED)("reverts a swap to an unhealthy version killed right after it recorded %s", async (phase) => {
    const { before } = await nextHealthy(h, stack, v1, v2);
    const desired = version(stack, v3, `unhealthy-${phase}`);
    await crashAfter(h, desired, phase);

    const ctx = await h.context([desired]);
    const result = await reconcileStack(desired.name, ctx);

    expect(result.ready).toBe(false);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([before]);
    expect(await docker("inspect", "-f", "{{.State.Health.Status}}", running[0]?.id ?? "")).toBe("healthy");
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    expect(status?.current?.imageId).toBe(before);
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
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
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
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    expect(status?.current?.imageId).toBe(await h.imageId(v2));
    const degraded = getCondition(status?.conditions ?? [], "Degraded");
    expect(degraded?.reason).toBe("RolledBack");
    expect(degraded?.message).toContain("failed");
    expect(await ctx.store.intents()).toEqual([]);
  });

  it.each(FINISHED)("finishes a swap killed right after it recorded %s, answering every request throughout", async (phase) => {
    const { before, image } = await nextHealthy(h, stack, v1, v2);
    const desired = version(stack, image, phase);
    let ctx = await h.context([desired]);
    let ready = false;

    const counts = await prober.during(async () => {
      await crashAfter(h, desired, phase);
      ctx = await h.context([desired]);
      ready = (await reconcileStack(desired.name, ctx)).ready;
    });

    expect(ready).toBe(true);
    expect(counts.fail).toBe(0);
    expect(counts.ok).toBeGreaterThan(0);
    const all = await h.containers(stack.name);
    expect(all.map((c) => `${c.imageId}:${c.state}`)).toEqual([`${await h.imageId(image)}:running`]);
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    expect(status?.current?.imageId).toBe(await h.imageId(image));
    expect(status?.history?.[0]?.imageId).toBe(before);
    expect(await ctx.store.intents()).toEqual([]);
  });

  it.each(REVERTED)(
    "reverts a swap to an unhealthy version killed right after it recorded %s, the old container serving throughout",
    async (phase) => {
      const { before } = await nextHealthy(h, stack, v1, v2);
      const desired = version(stack, v3, `unhealthy-${phase}`);
      let ctx = await h.context([desired]);

      const counts = await prober.during(async () => {
        await crashAfter(h, desired, phase);
        ctx = await h.context([desired]);
        await reconcileStack(desired.name, ctx);
      });

      expect(counts.fail).toBe(0);
      expect(counts.ok).toBeGreaterThan(0);
      const all = await h.containers(stack.name);
      expect(all.map((c) => `${c.imageId}:${c.state}`)).toEqual([`${before}:running`]);
      const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
      expect(status?.current?.imageId).toBe(before);
      expect(getCondition(status?.conditions ?? [], "Degraded")?.reason).toBe("RolledBack");
      expect(await ctx.store.intents()).toEqual([]);
    },
  );
});
