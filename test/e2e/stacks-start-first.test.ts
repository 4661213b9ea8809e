// Real-engine test of start-first swaps: a prober on the stack's network requests the service
// more than 10 times a second through a swap and through an automatic rollback: no failures.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createHarness, startProber, withServices } from "../support/stacks-harness.ts";
import type { Harness, Prober } from "../support/stacks-harness.ts";

describe("stacks: start-first swaps never drop a request", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let v3: string;
  let v4: string;
  let stack: StackSpec;
  let prober: Prober;

  beforeAll(async () => {
    h = await createHarness("startfirst");
    [v1, v2, v3, v4] = await Promise.all([
      h.buildVersion("v1"),
      h.buildVersion("v2", { startDelaySeconds: 1 }),
      h.buildVersion("v3", { healthy: false }),
      h.buildVersion("v4", { unhealthyAfterSeconds: 3 }),
    ]);
    stack = await h.stack("edge", { web: { image: v1, rollout: { strategy: "start-first", monitorSeconds: 2 } } });
    expect((await reconcileStack(stack.name, await h.context([stack]))).ready).toBe(true);
    prober = await startProber(`${h.prefix}-prober`, `${stack.name}_default`);
  });

  afterAll(async () => {
    await prober?.remove();
    await h?.cleanup();
  });

  it("swaps v1 → v2 with zero failed requests", async () => {
    const desired = withServices(stack, (s) => ({ ...s, image: v2 }));
    let ready = false;
    const counts = await prober.during(async () => {
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
    const counts = await prober.during(async () => {
      ctx = await h.context([desired]);
      await reconcileStack(desired.name, ctx);
    });
    expect(counts.fail).toBe(0);
    expect(counts.ok / counts.seconds).toBeGreaterThanOrEqual(10);
    expect(counts.bodies).toEqual(new Set(["v2"]));
    expect(getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "web" })?.conditions ?? [], "Degraded")?.reason).toBe(
      "RolledBack",
    );
    const all = await h.containers(stack.name);
    expect(all.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
  });

  it("rolls back from a v4 that turns unhealthy during the monitor window with zero failed requests", async () => {
    const desired = withServices(stack, (s) => (s.name === "web" ? { ...s, image: v4, rollout: { ...s.rollout, monitorSeconds: 8 } } : s));
    let ctx = await h.context([desired]);
    const counts = await prober.during(async () => {
      ctx = await h.context([desired]);
      await reconcileStack(desired.name, ctx);
    });
    expect(counts.fail).toBe(0);
    expect(counts.ok / counts.seconds).toBeGreaterThanOrEqual(10);
    expect(counts.bodies).toEqual(new Set(["v2", "v4"]));
    const degraded = getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "web" })?.conditions ?? [], "Degraded");
    expect(degraded?.reason).toBe("RolledBack");
    expect(degraded?.message).toContain("monitor window");
    const all = await h.containers(stack.name);
    expect(all.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
  });
});
