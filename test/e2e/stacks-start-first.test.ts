// Real-engine test of start-first swaps: a prober on the stack's network requests the service
// more than 10 times a second through a swap and through an automatic rollback: no failures.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createHarness, docker, withServices } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

type ProbeCounts = { ok: number; fail: number; seconds: number; bodies: Set<string> };

describe("stacks: start-first swaps never drop a request", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let v3: string;
  let v4: string;
  let stack: StackSpec;
  let prober: string;

  beforeAll(async () => {
    h = await createHarness("startfirst");
    [v1, v2, v3, v4] = await Promise.all([h.buildVersion("v1"), h.buildVersion("v2", { startDelaySeconds: 1 }), h.buildVersion("v3", { healthy: false }), h.buildVersion("v4", { unhealthyAfterSeconds: 3 })]);
    stack = await h.stack("edge", { web: { image: v1, rollout: { strategy: "start-first", monitorSeconds: 2 } } });
    expect((await reconcileStack(stack.name, await h.context([stack]))).ready).toBe(true);
    prober = `${h.prefix}-prober`;
    // Four request loops side by side (each request resolves `web` through the engine's DNS, so one
    // loop alone is slow on a busy machine); the engine timestamps each line, so no `date` fork.
    // busybox-static wget crashes with -T, so no timeout flag.
    const loop = 'while true; do b=$(wget -q -O- http://web:8080/ 2>/dev/null) && echo "ok $b" || echo "fail"; usleep 20000; done';
    const script = `for i in 1 2 3 4; do (${loop}) & done; wait`;
    await docker("run", "-d", "--name", prober, "--network", `${stack.name}_default`, "--label", "io.berth.test=true", "berth-test/busybox:1", "sh", "-c", script);
  });

  afterAll(async () => {
    await docker("rm", "-f", prober).catch(() => "");
    await h?.cleanup();
  });

  async function probeDuring(work: () => Promise<unknown>): Promise<ProbeCounts> {
    const since = (Date.now() / 1000).toFixed(3);
    const started = Date.now();
    await work();
    const seconds = (Date.now() - started) / 1000;
    const lines = (await docker("logs", "--timestamps", "--since", since, prober)).split("\n").filter(Boolean);
    const words = lines.map((l) => l.split(" "));
    const bodies = new Set(words.filter((w) => w[1] === "ok").map((w) => w[2] ?? ""));
    const counts = { ok: words.filter((w) => w[1] === "ok").length, fail: words.filter((w) => w[1] === "fail").length, seconds, bodies };
    if (process.env["BERTH_TEST_REPORT"]) console.info(`prober: ${counts.ok} ok, ${counts.fail} failed in ${seconds.toFixed(1)} s (${(counts.ok / seconds).toFixed(1)}/s)`);
    return counts;
  }

  it("swaps v1 → v2 with zero failed requests", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v2 }));
    let ready = false;
    const counts = await probeDuring(async () => {
      ready = (await reconcileStack(desired.name, await h.context([desired]))).ready;
    });
    expect(ready).toBe(true);
    expect(counts.fail).toBe(0);
    expect(counts.ok / counts.seconds).toBeGreaterThanOrEqual(10);
    expect(counts.bodies).toEqual(new Set(["v1", "v2"]));
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
  });

  it("rolls back from a v3 that never turns healthy with zero failed requests", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v3 }));
    let ctx = await h.context([desired]);
    const counts = await probeDuring(async () => {
      ctx = await h.context([desired]);
      await reconcileStack(desired.name, ctx);
    });
    expect(counts.fail).toBe(0);
    expect(counts.ok / counts.seconds).toBeGreaterThanOrEqual(10);
    expect(counts.bodies).toEqual(new Set(["v2"]));
    expect(getCondition(ctx.store.get(`service/${stack.name}/web`)?.conditions ?? [], "Degraded")?.reason).toBe("RolledBack");
    const all = await h.containers(stack.name);
    expect(all.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
  });

  it("rolls back from a v4 that turns unhealthy during the monitor window with zero failed requests", async () => {
    const desired = withServices(stack, (s) => (s.name === "web" ? { ...s, image: v4, rollout: { ...s.rollout, monitorSeconds: 8 } } : s));
    let ctx = await h.context([desired]);
    const counts = await probeDuring(async () => {
      ctx = await h.context([desired]);
      await reconcileStack(desired.name, ctx);
    });
    expect(counts.fail).toBe(0);
    expect(counts.ok / counts.seconds).toBeGreaterThanOrEqual(10);
    expect(counts.bodies).toEqual(new Set(["v2", "v4"]));
    const degraded = getCondition(ctx.store.get(`service/${stack.name}/web`)?.conditions ?? [], "Degraded");
    expect(degraded?.reason).toBe("RolledBack");
    expect(degraded?.message).toContain("monitor window");
    const all = await h.containers(stack.name);
    expect(all.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
  });
});
