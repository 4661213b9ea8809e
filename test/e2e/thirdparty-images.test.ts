// Real-engine test of images berth does not build, against a local registry: pulled when missing,
// run pinned to their digest (a moved tag changes nothing), `track` follows the tag through the
// health gate with automatic rollback, registry trouble leaves running services alone, and prune
// keeps the pinned digest (pulled again by digest when it is gone anyway).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PRUNE } from "../../desired-state/desired-state.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { systemClock } from "../../platform/clock.ts";
import { silentLogger } from "../../platform/logger.ts";
import { runPrune } from "../../reconcilers/prune/prune-reconciler.ts";
import { createRegistryClient } from "../../reconcilers/images/registry-client.ts";
import { retryService } from "../../reconcilers/stacks/manual-actions.ts";
import { rollbackTag } from "../../reconcilers/stacks/rollback-history.ts";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import type { StackResult } from "../../reconcilers/stacks/stack-reconciler.ts";
import { createImageResolver } from "../../reconcilers/stacks/third-party-images.ts";
import { getCondition } from "../../status/conditions.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import type { ServiceStatus } from "../../status/resource-status.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";
import { createHarness, docker, startProber, withServices } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

describe("third-party images: pull, pin, track, rollback", () => {
  let h: Harness;
  let registry: LocalRegistry;
  let lookups: string[] = [];

  beforeAll(async () => {
    [h, registry] = await Promise.all([createHarness("thirdparty"), startLocalRegistry()]);
  });

  afterAll(async () => {
    await h?.cleanup();
    await registry?.destroy();
  });

  /** `ref` in the registry names the image of local tag `source`; the host no longer has `ref`. */
  async function publish(source: string, ref: string): Promise<void> {
    await docker("tag", source, ref);
    await docker("push", "--quiet", ref);
    await docker("rmi", ref);
  }

  /** One pass over the stack, as the agent runs it: a fresh resolver whose look-ups are counted. */
  async function pass(stack: StackSpec): Promise<{ result: StackResult; status: (service: string) => ServiceStatus | undefined }> {
    const client = createRegistryClient();
    const imageResolver = createImageResolver({
      machine: "test",
      logger: silentLogger(),
      events: noEvents,
      engine: h.engine,
      registry: { resolveDigest: (ref) => (lookups.push(ref), client.resolveDigest(ref)) },
    });
    const ctx = await h.context([stack], { imageResolver });
    const result = await reconcileStack(stack.name, ctx);
    return { result, status: (service) => ctx.store.get({ kind: "service", stack: stack.name, service }) };
  }

  async function configImage(project: string, service: string): Promise<string> {
    const [container] = (await h.containers(project)).filter((c) => c.service === service && c.state === "running");
    return container ? docker("inspect", "-f", "{{.Config.Image}}", container.id) : "";
  }

  it("pulls a missing image before starting the service, pins its digest, and ignores the tag moving until `berth retry`", async () => {
    // Arrange: cache:1 is only in the registry
    const [v1, v2] = await Promise.all([h.buildVersion("p1"), h.buildVersion("p2")]);
    const ref = `${registry.host}/${h.prefix}/pinned:1`;
    await publish(v1, ref);
    const stack = await h.stack("pinned", { web: { image: ref } });

    // Act: first pass pulls and starts it
    const first = await pass(stack);

    // Assert: running v1 by digest, the digest recorded
    expect(first.result.services[0]).toMatchObject({ action: "create", ready: true });
    const pinned = first.status("web")?.image;
    expect(pinned?.digest).toMatch(new RegExp(`^${registry.host}/${h.prefix}/pinned@sha256:[0-9a-f]{64}$`));
    expect(await configImage(stack.name, "web")).toBe(pinned?.digest);
    expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([await h.imageId(v1)]);

    // Act: the tag moves in the registry (and here, on the host too), then a pass
    await docker("tag", v2, ref);
    await docker("push", "--quiet", ref);
    lookups = [];
    const second = await pass(stack);

    // Assert: nothing changed, and the registry was not asked
    expect(second.result).toMatchObject({ ready: true, changed: 0 });
    expect(lookups).toEqual([]);
    expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([await h.imageId(v1)]);

    // Act: `berth retry` pulls the tag again
    await retryService((await h.context([stack])).store, { stack: stack.name, service: "web" });
    const third = await pass(stack);

    // Assert: rolled out to what the tag names now
    expect(third.result.services[0]).toMatchObject({ action: "update", ready: true, reason: "RolledOut" });
    expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    expect(third.status("web")?.image?.refresh).toBeUndefined();
  });

  it("reads a tag's digest from the registry as the engine records it, and tells a missing tag from a missing registry", async () => {
    const v = await h.buildVersion("d1");
    const ref = `${registry.host}/${h.prefix}/digest:1`;
    await docker("tag", v, ref);
    await docker("push", "--quiet", ref);
    const client = createRegistryClient();
    const lookup = await client.resolveDigest(ref);
    expect(lookup.kind === "digest" ? `${registry.host}/${h.prefix}/digest@${lookup.digest}` : lookup.message).toBe(
      await docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", ref),
    );
    expect(await client.resolveDigest(`${registry.host}/${h.prefix}/digest:2`)).toMatchObject({ kind: "failed", reason: "NotInRegistry" });
    expect(await client.resolveDigest(`127.0.0.1:1/${h.prefix}/digest:1`)).toMatchObject({ kind: "failed", reason: "RegistryUnreachable" });
  });

  it("tracks a tag: rolls out the new digest and rolls back from an unhealthy one with zero failed requests (start-first)", async () => {
    // Arrange: a start-first service following track:1, a prober on its network
    const [v1, v2, v3] = await Promise.all([
      h.buildVersion("t1"),
      h.buildVersion("t2", { startDelaySeconds: 1 }),
      h.buildVersion("t3", { healthy: false }),
    ]);
    const ref = `${registry.host}/${h.prefix}/track:1`;
    await publish(v1, ref);
    const stack = withServices(
      await h.stack("track", { web: { image: ref, rollout: { strategy: "start-first", monitorSeconds: 2 } } }),
      (s) => ({ ...s, update: "track" }),
    );
    expect((await pass(stack)).result.ready).toBe(true);
    let prober = await startProber(`${h.prefix}-prober`, `${stack.name}_default`);
    try {
      // Act: the tag moves to a healthy t2
      await publish(v2, ref);
      lookups = [];
      let rollout: Awaited<ReturnType<typeof pass>> | undefined;
      const during = await prober.during(async () => {
        rollout = await pass(stack);
      });

      // Assert: one look-up, t2 runs, no request failed
      expect(lookups).toEqual([ref]);
      expect(rollout?.result.services[0]).toMatchObject({ action: "update", ready: true, reason: "RolledOut" });
      expect(during.fail).toBe(0);
      expect(during.bodies).toEqual(new Set(["t1", "t2"]));
      expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
      const goodDigest = rollout?.status("web")?.image?.digest ?? "";
      expect(await h.imageId(rollbackTag(stack.name, "web", 1))).toBe(await h.imageId(v1));

      // Act: the tag moves to t3, which never turns healthy
      await publish(v3, ref);
      // A fresh prober: a request the old one had in flight to t1 when t1 left the network never
      // answers (busybox wget has no timeout), and such a loop would count nothing here.
      await prober.remove();
      prober = await startProber(`${h.prefix}-prober`, `${stack.name}_default`);
      let rollback: Awaited<ReturnType<typeof pass>> | undefined;
      const duringRollback = await prober.during(async () => {
        rollback = await pass(stack);
      });

      // Assert: back on t2 with zero failed requests; the condition names both digests
      expect(duringRollback.fail).toBe(0);
      expect(duringRollback.bodies).toEqual(new Set(["t2"]));
      const badDigest = rollback?.status("web")?.image?.digest ?? "";
      expect(badDigest).not.toBe(goodDigest);
      const degraded = getCondition(rollback?.status("web")?.conditions ?? [], "Degraded");
      expect(degraded?.reason).toBe("RolledBack");
      expect(degraded?.message).toContain(`image ${badDigest}) failed`);
      expect(degraded?.message).toContain(`(image ${goodDigest})`);
      expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([await h.imageId(v2)]);

      // Act: the next resync, the tag still on t3
      const again = await pass(stack);

      // Assert: not retried
      expect(again.result).toMatchObject({ changed: 0 });
      expect(again.result.services[0]).toMatchObject({ ready: false, reason: "RolledBack" });
      expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    } finally {
      await prober.remove();
    }
  });

  it("keeps the pinned digest through prune, and pulls it again by digest when it is gone anyway", async () => {
    // Arrange: a pinned service on k1; the tag moves to k2 on the host; the container is removed by hand
    const [k1, k2] = await Promise.all([h.buildVersion("k1"), h.buildVersion("k2")]);
    const ref = `${registry.host}/${h.prefix}/keep:1`;
    await publish(k1, ref);
    const stack = await h.stack("keep", { web: { image: ref } });
    const first = await pass(stack);
    expect(first.result.ready).toBe(true);
    const pinned = first.status("web")?.image;
    await docker("tag", k2, ref);
    for (const c of await h.containers(stack.name)) await docker("rm", "-f", c.id);

    // Act: a prune that may remove images berth does not manage
    const ctx = await h.context([stack]);
    const state = {
      ...ctx.state,
      machines: {
        test: { name: "test", profile: "", hostnames: [], prune: { ...DEFAULT_PRUNE, keep: 1, minAgeSeconds: 0, foreign: true } },
      },
    };
    const report = await runPrune(
      { engine: h.engine, store: ctx.store, lock: ctx.lock, logger: silentLogger(), events: noEvents, clock: systemClock },
      {
        state,
        machine: "test",
        dryRun: true,
        scope: {
          repositories: [`${registry.host}/${h.prefix}/`, `${h.prefix}/`, `berth-rollback/${h.prefix}-`],
          dangling: false,
          buildCache: false,
        },
      },
    );

    // Assert: the pinned image is kept as the service's current image
    expect(report.kept.find((k) => k.imageId === pinned?.imageId)?.rules[0]).toBe("current");

    // Act: the pinned image goes anyway (by hand), then a pass
    await docker("rmi", "-f", pinned?.imageId ?? "");
    const restored = await pass(stack);

    // Assert: restored from the same digest, pulled by digest
    expect(restored.result.services[0]).toMatchObject({ action: "restart", ready: true });
    expect((await h.containers(stack.name)).map((c) => c.imageId)).toEqual([pinned?.imageId]);
    expect(await configImage(stack.name, "web")).toBe(pinned?.digest);
  });

  it(
    "waits with PullFailed for an image it cannot pull, keeps a tracked service running when the registry is down, and lets " +
      "other services go on",
    async () => {
      // Arrange: a tracked service from the registry, one whose image is in no registry, one local image
      const [f1, local] = await Promise.all([h.buildVersion("f1"), h.buildVersion("f-local")]);
      const ref = `${registry.host}/${h.prefix}/faults:1`;
      const missing = `${registry.host}/${h.prefix}/nowhere:1`;
      await publish(f1, ref);
      const stack = withServices(
        await h.stack("faults", { web: { image: ref }, lost: { image: missing }, plain: { image: local } }),
        (s) => (s.name === "web" ? { ...s, update: "track" } : s),
      );

      // Act
      const first = await pass(stack);

      // Assert: the missing image waits with the registry's message, the others run
      const byName = (r: StackResult, name: string) => r.services.find((s) => s.service === name);
      expect(byName(first.result, "web")).toMatchObject({ ready: true });
      expect(byName(first.result, "plain")).toMatchObject({ ready: true });
      expect(byName(first.result, "lost")).toMatchObject({ ready: false, reason: "PullFailed" });
      expect(getCondition(first.status("lost")?.conditions ?? [], "Waiting")).toMatchObject({ status: "True", reason: "PullFailed" });
      expect(byName(first.result, "lost")?.message).toMatch(/not found|manifest unknown/i);
      const webBefore = (await h.containers(stack.name)).find((c) => c.service === "web");

      // Act: the registry goes away, then a resync
      await registry.stop();
      let second: Awaited<ReturnType<typeof pass>>;
      try {
        second = await pass(stack);
      } finally {
        await registry.start();
      }

      // Assert: the tracked service keeps running as it was, Ready and Degraded/RegistryUnreachable
      expect(byName(second.result, "web")).toMatchObject({ action: "unchanged", ready: true });
      expect(getCondition(second.status("web")?.conditions ?? [], "Degraded")).toMatchObject({
        status: "True",
        reason: "RegistryUnreachable",
      });
      expect((await h.containers(stack.name)).find((c) => c.service === "web")?.id).toBe(webBefore?.id);
      expect(byName(second.result, "lost")).toMatchObject({ ready: false, reason: "PullFailed" });
      expect(byName(second.result, "plain")).toMatchObject({ ready: true });
    },
  );
});
