// Real engine + local registry: host A builds and pushes, host B pulls the same tags and builds
// nothing; with the registry down B builds locally and says why; a read-only registry, a missing
// tag, and a rebuild after `buildx prune` served from the registry cache.
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import type { ImagesResult } from "../../reconcilers/images/images-reconciler.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";
import { createWorld, imagesReconcilerFor, inspectLocal } from "../support/images-world.ts";
import type { World } from "../support/images-world.ts";

const execFileP = promisify(execFile);

async function registryTags(registry: LocalRegistry, repository: string): Promise<string[]> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/tags/list`, { signal: AbortSignal.timeout(5_000) });
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

describe("images reconciler: registry, pull instead of build, outage fallback (real engine + local registry)", () => {
  let world: World;
  let registry: LocalRegistry;
  const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
  const engine = createDockerEngine();
  let hostA: ImagesResult;

  async function host(): Promise<{ store: StatusStore; reconcile: () => Promise<ImagesResult> }> {
    const store = await openStatusStore(await world.newStateDir());
    const reconciler = imagesReconcilerFor(store, builder, engine);
    return { store, reconcile: () => reconciler.reconcile(world.state({ registry: registry.host }), "m1") };
  }

  function tagOf(result: ImagesResult, short: string): string {
    return result.tags.get(world.name(short)) ?? "";
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    registry = await startLocalRegistry();
    world = await createWorld({ machines: { m1: "p1" }, profiles: { p1: { GPU_ARCH: "sm_86" } } });
    await world.write({ short: "base", dockerfile: "FROM berth-test/busybox:1\nRUN echo base > /base.txt\n" });
    await world.write({
      short: "app",
      dockerfile: `FROM ${world.name("base")}\nARG GPU_ARCH\nCOPY app.txt /\nRUN echo "$GPU_ARCH" > /arch.txt\n`,
      files: { "app.txt": "v1\n" },
    });
    builder.reset();
    hostA = await (await host()).reconcile();
  });

  afterAll(async () => {
    await world?.cleanup();
    await registry?.destroy();
  });

  it("host A builds and pushes content, human and latest tags", async () => {
    expect(builder.calls.map((c) => c.image)).toEqual([world.name("base"), world.name("app")]);
    expect(hostA.outcomes.every((o) => o.ok && o.pushed)).toBe(true);
    const appTags = await registryTags(registry, world.name("app"));
    expect(appTags).toContain(tagOf(hostA, "app").split(":").pop());
    expect(appTags.some((t) => /^\d{8}-0123456-m1$/.test(t))).toBe(true);
    expect(appTags).toContain("latest-m1");
  });

  it("host B, with the same desired state, pulls the same tags and builds nothing", async () => {
    await world.removeImages();
    builder.reset();

    const hostB = await (await host()).reconcile();

    expect(builder.count()).toBe(0);
    expect(hostB.outcomes.map((o) => [o.action, o.reason])).toEqual([
      ["pull", "Pulled"],
      ["pull", "Pulled"],
    ]);
    expect(tagOf(hostB, "base")).toBe(tagOf(hostA, "base"));
    expect(tagOf(hostB, "app")).toBe(tagOf(hostA, "app"));
    expect(await inspectLocal(tagOf(hostB, "app"))).toBeDefined();
  });

  it("with the registry down, host B builds locally from local parents and reports why", async () => {
    await world.removeImages();
    await registry.stop();
    builder.reset();
    const { store, reconcile } = await host();

    const started = performance.now();
    const hostB = await reconcile();
    const seconds = (performance.now() - started) / 1000;

    await registry.start();
    expect(builder.count()).toBe(2);
    expect(hostB.outcomes.every((o) => o.ok && o.reason === "BuiltLocally" && !o.pushed)).toBe(true);
    const degraded = getCondition(store.get({ kind: "image", machine: "m1", name: world.name("app") })?.conditions ?? [], "Degraded");
    expect(degraded).toMatchObject({ status: "True", reason: "RegistryUnreachable" });
    expect(degraded?.message).toContain(registry.host);
    expect(tagOf(hostB, "app")).toBe(tagOf(hostA, "app"));
    expect(seconds).toBeLessThan(60);
  });

  it("a read-only registry refuses the push: the image is still usable and the condition says so", async () => {
    await registry.readOnly();
    await world.writeFile("app", "app.txt", "v2\n");
    builder.reset();
    const { store, reconcile } = await host();

    const result = await reconcile();

    await registry.start();
    expect(builder.calls.map((c) => c.image)).toEqual([world.name("app")]);
    const app = result.outcomes.find((o) => o.name === world.name("app"));
    expect(app).toMatchObject({ ok: true, pushed: false, degraded: { reason: "PushFailed" } });
    const conditions = store.get({ kind: "image", machine: "m1", name: world.name("app") })?.conditions ?? [];
    expect(getCondition(conditions, "Ready")?.status).toBe("True");
    expect(getCondition(conditions, "Degraded")).toMatchObject({ status: "True", reason: "PushFailed" });
    expect(await inspectLocal(tagOf(result, "app"))).toBeDefined();
  });

  it("an image that must be pulled but whose tag is not in the registry is stalled, not built", async () => {
    await world.write({ short: "ci-only", dockerfile: "FROM berth-test/busybox:1\nRUN echo never built here\n", source: "pull" });
    builder.reset();
    const { store, reconcile } = await host();

    const result = await reconcile();

    world.images.delete("ci-only");
    expect(builder.calls.map((c) => c.image)).not.toContain(world.name("ci-only"));
    expect(result.outcomes.find((o) => o.name === world.name("ci-only"))).toMatchObject({ ok: false, reason: "NotInRegistry" });
    expect(
      getCondition(store.get({ kind: "image", machine: "m1", name: world.name("ci-only") })?.conditions ?? [], "Stalled")?.message,
    ).toContain("not in the registry");
  });

  it("after `docker buildx prune -af`, a rebuild of an unchanged Dockerfile hits the registry cache (> 0.7)", async () => {
    await world.write({
      short: "cached",
      dockerfile: "FROM berth-test/busybox:1\nRUN echo one > /one\nRUN echo two > /two\nRUN echo three > /three\nCOPY app.txt /\n",
      files: { "app.txt": "stable\n", README: "v1\n" },
    });
    const { reconcile } = await host();
    const first = await reconcile();
    expect(first.outcomes.find((o) => o.name === world.name("cached"))).toMatchObject({ action: "build", pushed: true });
    await world.writeFile("cached", "README", "v2: the context changed, the Dockerfile did not\n");
    await execFileP("docker", ["buildx", "prune", "-af"], { timeout: 120_000 });
    builder.reset();

    const second = await reconcile();

    expect(builder.calls.map((c) => c.image)).toEqual([world.name("cached")]);
    const cached = second.outcomes.find((o) => o.name === world.name("cached"));
    expect(cached?.facts?.cacheHitRatio).toBeGreaterThan(0.7);
  });
});
