// Real-engine test at size: a 50-service stack where one service changes recreates exactly one
// container, and a no-op pass takes one batched look at the engine and never calls compose.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { ComposeCli } from "../../platform/compose-cli.ts";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createHarness, withServices } from "../support/stacks-harness.ts";
import type { Harness, ServiceInput } from "../support/stacks-harness.ts";

/** Counts calls to every method of an interface object. */
function counting<T extends object>(target: T): { value: T; calls: string[] } {
  const calls: string[] = [];
  const value = new Proxy(target, {
    get(obj, prop, receiver) {
      const member = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof member !== "function") return member;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (member as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
  return { value, calls };
}

describe("stacks: a 50-service stack", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let stack: StackSpec;

  beforeAll(async () => {
    h = await createHarness("fifty");
    [v1, v2] = await Promise.all([h.buildVersion("v1", { lenient: true }), h.buildVersion("v2", { lenient: true })]);
    const services: Record<string, ServiceInput> = {};
    for (let i = 0; i < 50; i += 1) services[`s${String(i).padStart(2, "0")}`] = { image: v1, rollout: { healthTimeoutSeconds: 120 } };
    stack = await h.stack("big", services);
    const first = await reconcileStack(stack.name, await h.context([stack]));
    expect(first.services.filter((s) => !s.ready)).toEqual([]);
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it("decides a no-op pass from one batched engine look, without compose", async () => {
    const ctx = await h.context([stack]);
    const engine = counting<DockerEngine>(ctx.engine);
    const compose = counting<ComposeCli>(ctx.compose);
    const result = await reconcileStack(stack.name, { ...ctx, engine: engine.value, compose: compose.value });
    expect(result).toMatchObject({ ready: true, changed: 0 });
    expect(engine.calls).toEqual(["observe"]);
    expect(compose.calls).toEqual([]);
  });

  it("recreates exactly one container when one service changes", async () => {
    const before = new Map((await h.containers(stack.name)).map((c) => [c.id, c.service]));
    const desired = withServices(stack, (s) => (s.name === "s17" ? { ...s, image: v2 } : s));
    const result = await reconcileStack(desired.name, await h.context([desired]));
    expect(result).toMatchObject({ ready: true, changed: 1 });
    const after = await h.containers(stack.name);
    const fresh = after.filter((c) => !before.has(c.id));
    expect(fresh.map((c) => c.service)).toEqual(["s17"]);
    expect(after).toHaveLength(50);
    expect(after.every((c) => c.state === "running")).toBe(true);
  });
});
