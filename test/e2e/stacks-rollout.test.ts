// Real-engine tests of health-gated swaps: v1 → v2 rolls out with a rollback tag, v3 with a
// failing health check is rolled back by itself, is not retried, and `berth retry` retries it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { retryService } from "../../reconcilers/stacks/manual-actions.ts";
import { rollbackCommand } from "../../controller/commands/rollback-command.ts";
import { getCondition } from "../../status/conditions.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createHarness, docker, recordingEvents, withServices } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

describe("stacks: rollout, automatic rollback, retry", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let v3: string;
  let stack: StackSpec;
  const events = recordingEvents();

  beforeAll(async () => {
    h = await createHarness("rollout");
    [v1, v2, v3] = await Promise.all([h.buildVersion("v1"), h.buildVersion("v2"), h.buildVersion("v3", { healthy: false })]);
    stack = await h.stack("shop", { web: { image: v1 } });
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  async function pass(image: string) {
    const desired = withServices(stack, (s) => ({ ...s, image }));
    const ctx = await h.context([desired], { events });
    return { result: await reconcileStack(desired.name, ctx), ctx };
  }

  it("creates v1 and reports it Ready", async () => {
    const { result, ctx } = await pass(v1);
    expect(result.ready).toBe(true);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v1)]);
    expect(getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "web" })?.conditions ?? [], "Ready")?.status).toBe(
      "True",
    );
  });

  it("swaps v1 → v2 once v2 is healthy, and tags v1 as rollback-1", async () => {
    const { result, ctx } = await pass(v2);
    expect(result.ready).toBe(true);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(await h.imageId(`berth-rollback/${stack.name}-web:rollback-1`)).toBe(await h.imageId(v1));
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    expect(status?.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(["Ready=True"]);
    // An image berth does not build runs pinned: by its image id here (it never came from a registry).
    expect(status?.history?.[0]?.config["image"]).toBe(await h.imageId(v1));
  });

  it("puts v2 back by itself when v3's health check fails, and says why", async () => {
    const { result, ctx } = await pass(v3);
    expect(result.ready).toBe(false);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(running[0]?.status).toContain("(healthy)");
    const status = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
    const degraded = getCondition(status?.conditions ?? [], "Degraded");
    expect(degraded).toMatchObject({ status: "True", reason: "RolledBack" });
    expect(degraded?.message).toMatch(/failed: Unhealthy: health check failed .*404/);
    expect(degraded?.message).toContain(ctx.state.revision.replace("content-", "").slice(0, 7));
    expect(getCondition(status?.conditions ?? [], "Ready")?.status).toBe("False");
    expect(events.rollouts.at(-1)).toBe("web:rolled_back");
  });

  it("does not retry v3 on the next pass", async () => {
    const before = (await h.containers(stack.name)).map((c) => c.id);
    const rollouts = events.rollouts.length;
    const { result, ctx } = await pass(v3);
    expect(result.ready).toBe(false);
    expect((await h.containers(stack.name)).map((c) => c.id)).toEqual(before);
    expect(events.rollouts.length).toBe(rollouts);
    expect(getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "web" })?.conditions ?? [], "Degraded")?.reason).toBe(
      "RolledBack",
    );
  });

  it("tries v3 again after `berth retry`, and rolls back again", async () => {
    const ctx = await h.context([stack]);
    const failedAt = ctx.store.get({ kind: "service", stack: stack.name, service: "web" })?.failed?.at ?? 0;
    const retried = await retryService(ctx.store, { stack: stack.name, service: "web" });
    expect(retried.ok).toBe(true);
    const rollouts = events.rollouts.length;
    const { result, ctx: after } = await pass(v3);
    expect(result.ready).toBe(false);
    expect(events.rollouts.slice(rollouts)).toEqual(["web:rolled_back"]);
    expect(after.store.get({ kind: "service", stack: stack.name, service: "web" })?.failed?.at).toBeGreaterThan(failedAt);
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(await docker("inspect", "-f", "{{.State.Health.Status}}", running[0]?.id ?? "")).toBe("healthy");
  });

  it("`berth rollback --to 1` pins the service to v1 until the desired state changes", async () => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), env: {} };
    const code = await rollbackCommand.run({ positionals: [`${stack.name}/web`], flags: { to: "1", "state-dir": h.stateDir } }, io);
    expect(code).toBe(0);
    expect(out.join("")).toContain("pinned to rollback-1");

    const pinned = await pass(v3);
    expect(pinned.result.ready).toBe(true);
    expect(pinned.result.services[0]).toMatchObject({ reason: "Pinned" });
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    expect(running.map((c) => c.imageId)).toEqual([await h.imageId(v1)]);
    expect((await pass(v3)).result.changed).toBe(0);

    const moved = await pass(v2);
    expect(moved.result.services[0]).toMatchObject({ action: "update", ready: true, reason: "RolledOut" });
    expect((await h.containers(stack.name)).filter((c) => c.state === "running").map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(moved.ctx.store.get({ kind: "service", stack: stack.name, service: "web" })?.pinned).toBeUndefined();
  });
});
