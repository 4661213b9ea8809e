// Real engine + two local registries: with the primary stopped, existence checks and pulls go to
// the mirror and the image keeps the primary's reference; an image built while the primary is
// down is PushPending and is pushed (the exact image id) once the primary answers again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { runCommand } from "../../platform/run-command.ts";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import type { ImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { createWorld, imagesReconcilerFor, inspectLocal } from "../support/images-world.ts";
import type { World } from "../support/images-world.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";

async function docker(...args: string[]): Promise<string> {
  return (await runCommand("docker", args, { timeoutMs: 120_000 })).stdout.trim();
}

async function registryTags(registry: LocalRegistry, repository: string): Promise<string[]> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/tags/list`, { signal: AbortSignal.timeout(5_000) });
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** The image config digest (= the engine's image id) the registry holds under a tag. */
async function configDigest(registry: LocalRegistry, repository: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json" },
    signal: AbortSignal.timeout(5_000),
  });
  return res.status === 200 ? ((await res.json()) as { config?: { digest?: string } }).config?.digest : undefined;
}

describe("registry mirrors and pending pushes (real engine + local registries)", () => {
  let world: World;
  let primary: LocalRegistry;
  let mirror: LocalRegistry;
  const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
  const engine = createDockerEngine();
  let store: StatusStore;
  let hostB: ImagesReconciler;

  const state = (): DesiredState => ({ ...world.state({ registry: primary.host }), registryMirrors: [mirror.host] });
  const toMirror = (ref: string): string => ref.replace(primary.host, mirror.host);

  beforeAll(async () => {
    await ensureBusyboxImage();
    [primary, mirror] = await Promise.all([startLocalRegistry(), startLocalRegistry()]);
    world = await createWorld({ machines: { m1: "p1" }, profiles: { p1: { GPU_ARCH: "sm_86" } }, prefix: "registry" });
    await world.write({ short: "base", dockerfile: "FROM berth-test/busybox:1\nRUN echo base > /base.txt\n" });
    await world.write({
      short: "app",
      dockerfile: `FROM ${world.name("base")}\nARG GPU_ARCH\nCOPY app.txt /\nRUN echo "$GPU_ARCH" > /arch.txt\n`,
      files: { "app.txt": "v1\n" },
    });
    // Host A builds and pushes to the primary; the host's local mirror is filled with the same content tags.
    const hostA = imagesReconcilerFor(await openStatusStore(await world.newStateDir()), builder, engine);
    const built = await hostA.reconcile(state(), "m1");
    expect(built.outcomes.every((o) => o.ok && o.pushed)).toBe(true);
    for (const tag of built.tags.values()) {
      await docker("tag", tag, toMirror(tag));
      await docker("push", "--quiet", toMirror(tag));
      await docker("rmi", toMirror(tag));
    }
    store = await openStatusStore(await world.newStateDir());
    hostB = imagesReconcilerFor(store, builder, engine);
  });

  afterAll(async () => {
    await world?.cleanup();
    await Promise.all([primary?.destroy(), mirror?.destroy()]);
  });

  it("with the primary stopped, host B asks the mirror, pulls from it and tags the images with the primary's references", async () => {
    await world.removeImages();
    await primary.stop();
    builder.reset();

    const result = await hostB.reconcile(state(), "m1");

    expect(builder.count()).toBe(0);
    expect(result.outcomes.map((o) => [o.action, o.reason, o.ok])).toEqual([
      ["pull", "Pulled", true],
      ["pull", "Pulled", true],
    ]);
    for (const tag of result.tags.values()) {
      expect(tag.startsWith(`${primary.host}/`)).toBe(true);
      const local = await inspectLocal(tag);
      expect(local?.tags).toContain(tag);
      expect(local?.tags).not.toContain(toMirror(tag));
    }
    expect(result.outcomes[1]?.message).toContain(`from ${mirror.host}/`);
  });

  it("an image built while the primary is down is PushPending, and is pushed when the primary answers again", async () => {
    // Arrange: the primary is still down; the app changes, so neither registry has it
    await world.writeFile("app", "app.txt", "v2\n");
    builder.reset();
    const key = { kind: "image" as const, machine: "m1", name: world.name("app") };

    // Act 1: build while down, then a second pass while still down
    const down = await hostB.reconcile(state(), "m1");
    const pendingSince = getCondition(store.get(key)?.conditions ?? [], "PushPending")?.lastTransitionTime;
    const stillDown = await hostB.reconcile(state(), "m1");

    // Assert 1: built once, locally, not pushed, PushPending kept across passes
    expect(builder.calls.map((c) => c.image)).toEqual([world.name("app")]);
    const app = down.outcomes.find((o) => o.name === world.name("app"));
    expect(app).toMatchObject({ action: "build", reason: "BuiltLocally", pushed: false });
    expect(down.pushPending).toEqual([world.name("app")]);
    expect(stillDown.pushPending).toEqual([world.name("app")]);
    const pending = getCondition(store.get(key)?.conditions ?? [], "PushPending");
    expect(pending).toMatchObject({ status: "True", reason: "RegistryUnreachable", lastTransitionTime: pendingSince });
    expect(pending?.message).toContain(primary.host);
    const builtId = store.get(key)?.build?.imageId;
    const tag = down.tags.get(world.name("app")) ?? "";

    // Act 2: the primary is back on the same port
    await primary.start();
    const back = await hostB.reconcile(state(), "m1");

    // Assert 2: pushed (content and human tag, the exact image id built), conditions cleared, nothing rebuilt
    expect(builder.calls).toHaveLength(1);
    expect(back.outcomes.find((o) => o.name === world.name("app"))).toMatchObject({ action: "reuse", pushed: true });
    expect(back.pushPending).toEqual([]);
    const conditions = store.get(key)?.conditions ?? [];
    expect(getCondition(conditions, "PushPending")).toBeUndefined();
    expect(getCondition(conditions, "Degraded")).toBeUndefined();
    const tags = await registryTags(primary, world.name("app"));
    expect(tags).toContain(tag.split(":").pop());
    expect(tags.some((t) => /^\d{8}-0123456-m1$/.test(t))).toBe(true);
    expect(await configDigest(primary, world.name("app"), tag.split(":").pop() ?? "")).toBe(builtId);
  });
});
