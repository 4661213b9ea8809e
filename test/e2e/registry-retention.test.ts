// Real engine + local registry: `berth prune --registry` deletes exactly the berth-made manifests no
// machine needs (current of every machine, this host's rollback history, newest `keep`), reports a
// registry that refuses deletes without failing, and counts what it did in the metrics.
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pruneCommand } from "../../controller/commands/prune-command.ts";
import { formatRegistryPruneReport } from "../../controller/commands/registry-prune-command.ts";
import { DEFAULT_PRUNE } from "../../desired-state/desired-state.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { createBerthMetrics } from "../../metrics/berth-metrics.ts";
import { renderExposition } from "../../metrics/metrics-handler.ts";
import { systemClock } from "../../platform/clock.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { silentLogger } from "../../platform/logger.ts";
import { createBuildxBuilder } from "../../reconcilers/images/image-builder.ts";
import { createRegistryHttp } from "../../reconcilers/images/registry-client.ts";
import { createRegistryApi } from "../../reconcilers/prune/registry-api.ts";
import { runRegistryPrune } from "../../reconcilers/prune/registry-prune-reconciler.ts";
import type { RegistryPruneDeps, RegistryPruneReport } from "../../reconcilers/prune/registry-prune-reconciler.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { createWorld, imagesReconcilerFor } from "../support/images-world.ts";
import type { World } from "../support/images-world.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";

async function registryTags(registry: LocalRegistry, repository: string): Promise<string[]> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/tags/list`, { signal: AbortSignal.timeout(5_000) });
  if (res.status === 404) return [];
  return (((await res.json()) as { tags: string[] | null }).tags ?? []).sort();
}

describe("berth prune --registry (real engine + local registry)", () => {
  let world: World;
  let registry: LocalRegistry;
  let store: StatusStore;
  let deps: RegistryPruneDeps;
  /** Content and human tag of each m1 build, by version. */
  const builds = new Map<string, { imageId: string; tags: string[] }>();
  let before: string[];

  const revision = (n: number): string => String(n).repeat(40);
  function state(n: number): DesiredState {
    const s = world.state({ registry: registry.host, revision: revision(n) });
    for (const machine of Object.values(s.machines)) machine.prune = { ...DEFAULT_PRUNE, keep: 1, minAgeSeconds: 0 };
    return s;
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    registry = await startLocalRegistry();
    world = await createWorld({
      machines: { m1: "p1", m2: "p2" },
      profiles: { p1: { GPU_ARCH: "sm_86" }, p2: { GPU_ARCH: "sm_90" } },
      prefix: "registry",
    });
    await world.write({
      short: "app",
      dockerfile: "FROM berth-test/busybox:1\nARG GPU_ARCH\nCOPY app.txt /\n",
      files: { "app.txt": "v1\n" },
    });
    store = await openStatusStore(await world.newStateDir());
    const images = imagesReconcilerFor(store, createBuildxBuilder({ env: processEngineSelection().childEnv }));
    // m1 builds four versions (each pushed: content, human, latest-m1); m2 builds the last one.
    for (const n of [1, 2, 3, 4]) {
      await world.writeFile("app", "app.txt", `v${n}\n`);
      const result = await images.reconcile(state(n), "m1");
      const outcome = result.outcomes[0];
      expect(outcome).toMatchObject({ ok: true, pushed: true });
      const content = outcome?.tag.split(":").pop() ?? "";
      builds.set(`v${n}`, { imageId: outcome?.facts?.imageId ?? "", tags: [content, dayTag(revision(n))] });
    }
    expect((await images.reconcile(state(4), "m2")).outcomes[0]).toMatchObject({ ok: true, pushed: true });
    // This host ran v2 before v4: it is in a service's rollback history.
    await store.put({
      kind: "service",
      key: "service/registry-shop/web",
      conditions: [],
      history: [
        {
          imageId: builds.get("v2")?.imageId ?? "",
          tag: "berth-rollback/x:rollback-1",
          revision: revision(2),
          specHash: "s",
          config: {},
          recordedAt: 1,
        },
      ],
      updatedAt: new Date().toISOString(),
    });
    deps = {
      api: createRegistryApi(createRegistryHttp()),
      engine: createDockerEngine(),
      store,
      lock: openSharedHostLock(store.dir),
      logger: silentLogger(),
      clock: systemClock,
    };
    before = await registryTags(registry, world.name("app"));
  });

  afterAll(async () => {
    await world?.cleanup();
    await registry?.destroy();
  });

  function dayTag(rev: string): string {
    return `${new Date().toISOString().slice(0, 10).replace(/-/g, "")}-${rev.slice(0, 7)}-m1`;
  }

  const unneeded = (): string[] => [...(builds.get("v1")?.tags ?? []), ...(builds.get("v3")?.tags ?? [])].sort();

  it("a registry without delete support is reported, not an error, and keeps every tag", async () => {
    await registry.deleteDisabled();

    const report = await runRegistryPrune(deps, { state: state(4), machine: "m1", dryRun: false });

    await registry.start();
    expect(report.failed).toBe(0);
    expect(report.unsupported).toMatch(/405|UNSUPPORTED/);
    expect(report.deletions.map((d) => d.outcome)).toEqual(["unsupported", "unsupported"]);
    expect(report.deletedTags).toBe(0);
    expect(await registryTags(registry, world.name("app"))).toEqual(before);
    expect(formatRegistryPruneReport(report)).toContain("does not allow deletes");
  });

  it("`berth prune DIR --registry --dry-run` lists exactly the unneeded manifests and deletes nothing", async () => {
    // Arrange: the world's root as a desired state on disk (keep 1, no minimum age, a mirror that is never asked)
    await writeFile(
      join(world.root, "berth.yaml"),
      `version: 1\nregistry: { prefix: "${registry.host}", mirrors: ["127.0.0.1:1"] }\n` +
        "prune: { keep: 1, minAge: 0s }\nmachines:\n  m1: { profile: p1 }\n  m2: { profile: p2 }\n",
    );
    await mkdir(join(world.root, "profiles"), { recursive: true });
    await writeFile(join(world.root, "profiles/p1.json"), JSON.stringify(world.profiles["p1"]));
    await writeFile(join(world.root, "profiles/p2.json"), JSON.stringify(world.profiles["p2"]));
    await writeFile(join(world.root, "images", world.name("app"), "image.yaml"), "push: true\n");
    let stdout = "";
    let stderr = "";
    const flags = { registry: true, "dry-run": true, json: true, machine: "m1", "state-dir": store.dir };

    // Act
    const code = await pruneCommand.run(
      { positionals: [world.root], flags },
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { ...process.env, BERTH_LOG_LEVEL: "silent" } },
    );

    // Assert
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const report = JSON.parse(stdout) as RegistryPruneReport;
    expect(report.dryRun).toBe(true);
    expect(new Set(report.deletions.map((d) => d.outcome))).toEqual(new Set(["planned"]));
    expect(report.deletions.flatMap((d) => d.tags).sort()).toEqual(unneeded());
    expect(await registryTags(registry, world.name("app"))).toEqual(before);
  });

  it("deletes exactly the berth-made tags no machine needs, keeping current (m1, m2), rollback, newest and moving tags", async () => {
    const report = await runRegistryPrune(deps, { state: state(4), machine: "m1", dryRun: false });

    expect(report.deletions.map((d) => d.outcome)).toEqual(["deleted", "deleted"]);
    expect(report.deletedTags).toBe(4);
    const after = await registryTags(registry, world.name("app"));
    expect(after).toEqual(before.filter((t) => !unneeded().includes(t)));
    expect(after).toEqual(
      expect.arrayContaining([...(builds.get("v2")?.tags ?? []), ...(builds.get("v4")?.tags ?? []), "latest-m1", "latest-m2"]),
    );
    const rules = new Map(report.kept.flatMap((k) => k.tags.map((t) => [t, k.rules[0]])));
    expect(rules.get(builds.get("v2")?.tags[0] ?? "")).toBe("rollback");
    expect(rules.get(builds.get("v4")?.tags[0] ?? "")).toBe("current");
  });

  it("counts deleted and kept tags in the metrics from the machine's record", async () => {
    const metrics = createBerthMetrics({ registry: new Registry(), store, machine: "m1" });

    const { body } = await renderExposition(metrics.registry);

    expect(body).toContain(`berth_registry_tags_deleted_total{registry="${registry.host}"} 4`);
    expect(body).toMatch(new RegExp(`berth_registry_tags_kept\\{registry="${registry.host.replace(/\./g, "\\.")}"\\} \\d+`));
    expect(body).toContain(`berth_registry_delete_unsupported{registry="${registry.host}"} 0`);
  });
});
