// Reconciler behaviour over fakes (no engine): admission holds a new service back, an unchanged
// stack costs one observation and no writes, and removal needs prune / allowEmpty.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import type { DesiredState, StackSpec } from "../../desired-state/desired-state.ts";
import type { ComposeCli } from "../../platform/compose-cli.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import { silentLogger } from "../../platform/logger.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import { getCondition } from "../../status/conditions.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { EngineGpuFacts } from "../../platform/engine-gpu-facts.ts";
import type { ContainerOps } from "./container-ops.ts";
import { effectiveService } from "./effective-service.ts";
import type { StackContext } from "./stack-context.ts";
import { reconcileStack, stacksToReconcile } from "./stack-reconciler.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";

const stack: StackSpec = {
  name: "shop",
  dir: "/srv/shop",
  composeFile: "/srv/shop/compose.yaml",
  machines: "all",
  prune: false,
  model: { services: {} },
  services: [
    {
      name: "llm",
      stack: "shop",
      config: { image: "llm:v1" },
      image: "llm:v1",
      rollout: DEFAULT_ROLLOUT,
      selfHeal: true,
      source: "pull",
      dependsOn: [],
      hasFixedHostPort: false,
      gpu: { vramMiB: 8000 },
    },
  ],
};

function state(stacks: StackSpec[], allowEmpty = false): DesiredState {
  return {
    root: "/srv",
    revision: "abc1234",
    push: false,
    machines: {},
    profiles: {},
    images: [],
    stacks,
    rollout: DEFAULT_ROLLOUT,
    resyncSeconds: 300,
    allowEmpty,
  };
}

/** An engine with the NVIDIA runtime unless a test says otherwise. */
const NVIDIA_ENGINE: EngineGpuFacts = { runtimes: ["nvidia", "runc"], cdiSpecDirs: [] };

function fakes(containers: ObservedContainer[], gpu: EngineGpuFacts = NVIDIA_ENGINE) {
  const calls: string[] = [];
  const engine = new Proxy({} as DockerEngine, {
    get: (_t, prop) => async () => {
      calls.push(String(prop));
      if (prop === "observe")
        return {
          containers,
          images: [{ id: "sha256:1", repoTags: ["llm:v1"], repoDigests: [], labels: {}, sizeBytes: 1, created: 1 }],
          takenAt: 0,
        };
      if (prop === "listContainers") return containers;
      if (prop === "engineInfo") return { imageStore: "overlay2", serverVersion: "26.1.5", gpu };
      return undefined;
    },
  });
  const compose: ComposeCli = {
    run: async (_p, args) => {
      calls.push(`compose ${args[0] ?? ""}`);
      return { stdout: "", stderr: "", exitCode: 0 };
    },
    config: async () => ({}),
  };
  const ops: ContainerOps = {
    start: async () => undefined,
    networks: async () => [],
    connect: async () => undefined,
    disconnect: async () => undefined,
  };
  return { engine, compose, ops, calls };
}

describe("reconcileStack over fakes", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-stacks-unit-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function context(containers: ObservedContainer[], extra: Partial<StackContext> = {}, gpu?: EngineGpuFacts) {
    const f = fakes(containers, gpu);
    const ctx: StackContext = {
      engine: f.engine,
      compose: f.compose,
      ops: f.ops,
      store: await openStatusStore(dir),
      lock: openSharedHostLock(dir),
      clock: { now: () => Date.parse("2026-01-01T00:00:00Z"), sleep: async () => undefined },
      logger: silentLogger(),
      events: noEvents,
      machine: "box",
      profile: {},
      state: state([stack]),
      imageTags: {},
      ...extra,
    };
    return { ctx, calls: f.calls };
  }

  it("holds a new GPU service back with Waiting and the admission's reason, starting nothing", async () => {
    const { ctx, calls } = await context([], {
      admit: () => ({ ok: false, reason: "InsufficientVRAM", message: "needs 8000 MiB, 2048 MiB free on GPU 0" }),
    });
    const result = await reconcileStack("shop", ctx);
    expect(result.services[0]).toMatchObject({ ready: false, reason: "InsufficientVRAM" });
    expect(getCondition(ctx.store.get({ kind: "service", stack: "shop", service: "llm" })?.conditions ?? [], "Waiting")).toMatchObject({
      status: "True",
      reason: "InsufficientVRAM",
      message: "needs 8000 MiB, 2048 MiB free on GPU 0",
    });
    expect(calls.filter((c) => c.startsWith("compose"))).toEqual([]);
  });

  it("asks to look again after the delay the admission gives, and not at all without one", async () => {
    const refusal = { ok: false, reason: "InsufficientVRAM", message: "needs 8000 MiB" } as const;
    const later = await reconcileStack("shop", (await context([], { admit: () => ({ ...refusal, retryAfterMs: 30_000 }) })).ctx);
    const never = await reconcileStack("shop", (await context([], { admit: () => refusal })).ctx);

    expect(later).toMatchObject({ ready: false, requeueAfterMs: 30_000 });
    expect(later.services[0]).toMatchObject({ ready: false, retryAfterMs: 30_000 });
    expect(never.requeueAfterMs).toBeUndefined();
  });

  it("holds a GPU service back with Waiting/NoGpuRuntime on an engine without a GPU runtime, before asking about VRAM", async () => {
    const { ctx, calls } = await context(
      [],
      { admit: () => ({ ok: true }) },
      { runtimes: ["io.containerd.runc.v2", "runc"], cdiSpecDirs: [] },
    );
    const result = await reconcileStack("shop", ctx);
    expect(result.services[0]).toMatchObject({ ready: false, reason: "NoGpuRuntime" });
    const waiting = getCondition(ctx.store.get({ kind: "service", stack: "shop", service: "llm" })?.conditions ?? [], "Waiting");
    expect(waiting).toMatchObject({ status: "True", reason: "NoGpuRuntime" });
    expect(waiting?.message).toContain('no "nvidia" runtime (runtimes: io.containerd.runc.v2, runc)');
    expect(calls.filter((c) => c.startsWith("compose"))).toEqual([]);
  });

  it("does not hold back a first start that compose itself could not carry out; the next pass tries again", async () => {
    // Arrange: compose fails as it does when the engine has no address pool left for the network
    const failingCompose: ComposeCli = {
      run: async () => {
        throw new Error("failed to create network shop_default: could not find an available, non-overlapping IPv4 address pool");
      },
      config: async () => ({}),
    };
    const { ctx } = await context([], { compose: failingCompose, admit: () => ({ ok: true }) });

    // Act
    const first = await reconcileStack("shop", ctx);
    const second = await reconcileStack("shop", ctx);

    // Assert: both passes tried (no RolloutFailed hold), and the condition says why
    expect(first.services[0]).toMatchObject({ action: "create", ready: false, reason: "ComposeFailed" });
    expect(second.services[0]).toMatchObject({ action: "create", ready: false, reason: "ComposeFailed" });
    const status = ctx.store.get({ kind: "service", stack: "shop", service: "llm" });
    expect(status?.failed).toBeUndefined();
    expect(getCondition(status?.conditions ?? [], "Degraded")?.message).toContain("non-overlapping IPv4 address pool");
  });

  it("takes one observation for an unchanged stack, and writes nothing the second time", async () => {
    const [service] = stack.services;
    if (!service) throw new Error("fixture has a service");
    // An image berth does not build runs pinned to the image it found: llm:v1 is sha256:1 here.
    const eff = effectiveService(service, { machine: "box", profile: {}, imageTags: { "llm:v1": "sha256:1" } });
    if (!eff.ok) throw new Error("expected ok");
    const running: ObservedContainer = {
      id: "c1",
      name: "shop-llm-1",
      image: "llm:v1",
      imageId: "sha256:1",
      labels: {
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "llm",
        "io.berth.managed": "true",
        "io.berth.spec-hash": eff.specHash,
      },
      state: "running",
      health: "healthy",
      created: 1,
      status: "Up 2 minutes (healthy)",
    };
    const first = await context([running]);
    await reconcileStack("shop", first.ctx);
    const second = await context([{ ...running, status: "Up 3 minutes (healthy)" }]);
    const before = JSON.stringify(second.ctx.store.all());
    const result = await reconcileStack("shop", second.ctx);
    expect(result).toMatchObject({ ready: true, changed: 0 });
    expect(second.calls).toEqual(["observe"]);
    expect(JSON.stringify(second.ctx.store.all())).toBe(before);
  });

  it("lists no stack to remove when the desired state is empty, unless allowEmpty", async () => {
    const { ctx } = await context([]);
    await mkdir(join(dir, "stacks", "shop"), { recursive: true });
    expect(await stacksToReconcile({ state: state([]), machine: "box", store: ctx.store, logger: silentLogger() })).toEqual({
      names: [],
      refused: ["shop"],
    });
    expect(await stacksToReconcile({ state: state([], true), machine: "box", store: ctx.store, logger: silentLogger() })).toEqual({
      names: ["shop"],
      refused: [],
    });
    expect(await stacksToReconcile({ state: state([stack]), machine: "box", store: ctx.store, logger: silentLogger() })).toEqual({
      names: ["shop"],
      refused: [],
    });
  });
});
