// Real engine (no GPU, no NVIDIA runtime): a GPU service waits with NoGpuRuntime while a plain one in
// the same stack runs; `x-berth.verify` runs inside the new container after its health gate: a failing
// command rolls back (start-first and recreate) and the old version keeps serving, a passing one rolls out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import { createHarness, docker, withServices } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

const GPU_RESERVATION = { deploy: { resources: { reservations: { devices: [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }] } } } };

describe("gpu: no GPU runtime on this engine", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness("gpu-runtime");
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  it("holds the GPU service with Waiting/NoGpuRuntime and runs the plain one beside it", async () => {
    // Arrange: this engine has neither an nvidia runtime nor CDI GPU devices
    const facts = (await h.engine.engineInfo()).gpu;
    expect(facts.runtimes.some((r) => r.includes("nvidia"))).toBe(false);
    const image = await h.buildVersion("v1");
    const stack = await h.stack("mixed", { web: { image }, llm: { image, compose: GPU_RESERVATION } });

    // Act
    const ctx = await h.context([stack]);
    const result = await reconcileStack(stack.name, ctx);

    // Assert
    expect(result.services.find((s) => s.service === "web")).toMatchObject({ ready: true });
    expect(result.services.find((s) => s.service === "llm")).toMatchObject({ ready: false, reason: "NoGpuRuntime" });
    const waiting = getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "llm" })?.conditions ?? [], "Waiting");
    expect(waiting).toMatchObject({ status: "True", reason: "NoGpuRuntime" });
    expect(waiting?.message).toContain('no "nvidia" runtime (runtimes: ');
    expect(waiting?.message).toContain("asks for a GPU (deploy.resources.reservations.devices)");
    const containers = await h.containers(stack.name);
    expect(containers.map((c) => [c.service, c.state])).toEqual([["web", "running"]]);
  });
});

describe("gpu: x-berth.verify gates a new container after its health check", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let v3: string;

  beforeAll(async () => {
    h = await createHarness("gpu-verify");
    [v1, v2, v3] = await Promise.all([h.buildVersion("v1"), h.buildVersion("v2"), h.buildVersion("v3")]);
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  async function serving(stack: StackSpec): Promise<string[]> {
    const running = (await h.containers(stack.name)).filter((c) => c.state === "running");
    return Promise.all(running.map((c) => docker("exec", c.id, "wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html")));
  }

  for (const strategy of ["start-first", "recreate"] as const) {
    it(`rolls back (${strategy}) when a verify command exits 1, with its output, and v1 keeps serving`, async () => {
      // Arrange: v1 runs
      const stack = await h.stack(`verify-${strategy}`, { web: { image: v1, rollout: { strategy } } });
      expect((await reconcileStack(stack.name, await h.context([stack]))).ready).toBe(true);
      const failing = withServices(stack, (s) => ({
        ...s,
        image: v2,
        verify: ["test -f /www/index.html", "echo CUDA check: no device >&2; exit 1"],
      }));

      // Act
      const ctx = await h.context([failing]);
      const result = await reconcileStack(failing.name, ctx);

      // Assert
      expect(result.ready).toBe(false);
      const record = ctx.store.get({ kind: "service", stack: stack.name, service: "web" });
      const degraded = getCondition(record?.conditions ?? [], "Degraded");
      expect(degraded?.reason).toBe("RolledBack");
      expect(degraded?.message).toContain('VerifyFailed: verify "echo CUDA check: no device >&2; exit 1" exited 1: CUDA check: no device');
      expect(record?.failed?.reason).toBe("VerifyFailed");
      expect(await serving(stack)).toEqual(["v1"]);
      const all = await h.containers(stack.name);
      expect(all.map((c) => c.imageId)).toEqual([await h.imageId(v1)]);
    });
  }

  it("rolls out when every verify command exits 0 (argv and shell forms)", async () => {
    // Arrange
    const stack = await h.stack("verify-pass", { web: { image: v1 } });
    expect((await reconcileStack(stack.name, await h.context([stack]))).ready).toBe(true);
    const passing = withServices(stack, (s) => ({
      ...s,
      image: v3,
      verify: [["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"], "grep -qx v3 /www/index.html"],
    }));

    // Act
    const result = await reconcileStack(passing.name, await h.context([passing]));

    // Assert
    expect(result.ready).toBe(true);
    expect(await serving(stack)).toEqual(["v3"]);
  });
});
