// Real engine: 12 versions of one service, 3 rollbacks recorded, a stopped container on an old version; after prune exactly the keep-set
// remains.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import type { DesiredState, PruneSpec } from "../../desired-state/desired-state.ts";
import { systemClock } from "../../platform/clock.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { silentLogger } from "../../platform/logger.ts";
import { runCommand } from "../../platform/run-command.ts";
import { executePrunePlan, runPrune } from "../../reconcilers/prune/prune-reconciler.ts";
import type { PruneDeps, PruneReport } from "../../reconcilers/prune/prune-reconciler.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import type { ResourceStatus, RollbackEntry } from "../../status/resource-status.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const prefix = `berth-t-${randomBytes(4).toString("hex")}`;
const repo = `${prefix}/app`;
const versions = Array.from({ length: 12 }, (_, i) => `v${String(i + 1).padStart(2, "0")}`);
const containers: string[] = [];
const dirs: string[] = [];

async function docker(args: string[], input?: string): Promise<string> {
  const { stdout } = await runCommand("docker", args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
  return stdout.trim();
}

async function buildVersion(tag: string, content: string, managed: boolean): Promise<string> {
  const labels = managed ? ["--label", "io.berth.managed=true", "--label", "io.berth.image=app"] : [];
  await docker(
    ["build", "-q", "-t", tag, ...labels, "-"],
    `FROM berth-test/busybox:1\nRUN echo ${content} > /version && echo ${prefix} > /run-id\n`,
  );
  return docker(["image", "inspect", "--format", "{{.Id}}", tag]);
}

/** Every tag under this test's prefix, as the engine lists them. */
async function ownTags(): Promise<string[]> {
  const out = await docker(["image", "ls", "--filter", `reference=${prefix}/*`, "--format", "{{.Repository}}:{{.Tag}}"]);
  return out
    .split("\n")
    .filter((line) => line && !line.endsWith(":<none>"))
    .sort();
}

function desiredState(spec: Partial<PruneSpec>): DesiredState {
  const prune: PruneSpec = { schedule: "0 4 * * *", keep: 3, minAgeSeconds: 6 * 3600, foreign: false, ...spec };
  return {
    root: "/nonexistent",
    revision: "content-test",
    registry: prefix,
    push: false,
    machines: { m1: { name: "m1", profile: "cpu", hostnames: [], prune } },
    profiles: {},
    images: [],
    stacks: [],
    rollout: DEFAULT_ROLLOUT,
    resyncSeconds: 300,
    allowEmpty: false,
  };
}

async function depsFor(stateDir: string): Promise<PruneDeps> {
  return {
    engine: createDockerEngine(),
    store: await openStatusStore(stateDir),
    lock: openSharedHostLock(stateDir),
    logger: silentLogger(),
    events: noEvents,
    clock: systemClock,
  };
}

const scope = { repositories: [`${prefix}/`], dangling: false, buildCache: false };
const tagsOf = (report: PruneReport, list: "candidates" | "kept"): string[] => report[list].flatMap((entry) => entry.tags).sort();

describe("prune on the real engine", () => {
  const ids = new Map<string, string>();
  let stateDir: string;

  beforeAll(async () => {
    await ensureBusyboxImage();
    for (const version of versions) ids.set(version, await buildVersion(`${repo}:${version}`, version, true));
    ids.set("foreign", await buildVersion(`${prefix}/foreign:1`, "foreign", false));
    stateDir = await mkdtemp(join(tmpdir(), "berth-prune-e2e-"));
    dirs.push(stateDir);

    // berth's records: v12 is current (1 h), v04/v07 newest by record, v03 young, the rest days old
    const now = Date.now();
    const recordedAgo: Record<string, number> = { v12: 1 * HOUR, v04: 2 * HOUR, v07: 3 * HOUR, v03: 4 * HOUR };
    const records = Object.fromEntries(versions.map((v, i) => [`${repo}:${v}`, now - (recordedAgo[v] ?? (20 - i) * DAY)]));
    const history: RollbackEntry[] = (["v11", "v08", "v06"] as const).map((v, i) => ({
      imageId: ids.get(v) ?? "",
      tag: `${repo}:rollback-${i + 1}`,
      revision: "r",
      specHash: "h",
      config: {},
      recordedAt: now - i * DAY,
    }));
    for (const entry of history) await docker(["tag", entry.imageId, entry.tag]);
    const store = await openStatusStore(stateDir);
    const imageRecord: ResourceStatus = {
      kind: "image",
      key: "image/m1/app",
      conditions: [],
      records,
      build: { inputHash: "h", tag: `${repo}:v12`, imageId: ids.get("v12") ?? "", action: "build", sizeBytes: 1, recordedAt: now - HOUR },
      updatedAt: new Date().toISOString(),
    };
    await store.put(imageRecord);
    await store.put({ kind: "service", key: "service/web/app", conditions: [], history, updatedAt: new Date().toISOString() });

    // the service runs v12; a stopped container remains on v02
    containers.push(
      await docker(["run", "-d", "--name", `${prefix}-app-running`, "--label", "io.berth.managed=true", `${repo}:v12`, "sleep", "600"]),
    );
    containers.push(await docker(["create", "--name", `${prefix}-app-stopped`, `${repo}:v02`, "true"]));
  });

  afterAll(async () => {
    for (const id of containers) await docker(["rm", "-f", id]).catch(() => undefined);
    const tags = await ownTags().catch(() => [] as string[]);
    if (tags.length > 0) await docker(["rmi", ...tags]).catch(() => undefined);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("plans the keep-set (dry run), removes exactly the rest, and the dry run and the real run agree", async () => {
    // Arrange
    const deps = await depsFor(stateDir);
    const state = desiredState({});
    const before = await ownTags();

    // Act
    const dry = await runPrune(deps, { state, machine: "m1", dryRun: true, scope });
    const afterDry = await ownTags();
    const real = await runPrune(deps, { state, machine: "m1", dryRun: false, scope });

    // Assert: the dry run changed nothing and named the same images the real run removed
    expect(afterDry).toEqual(before);
    const expectedGone = ["v01", "v05", "v09", "v10"].map((v) => `${repo}:${v}`);
    expect(tagsOf(dry, "candidates")).toEqual(expectedGone);
    expect(dry.candidates.every((c) => c.rule === "superseded")).toBe(true);
    expect(real.removals.map((r) => [r.imageId, r.outcome])).toEqual(dry.candidates.map((c) => [c.imageId, "removed"]));
    expect(real.removedImages).toBe(4);
    expect(real.reclaimedBytes).toBeGreaterThan(0);

    // Assert: exactly the keep-set remains, each image kept for the expected rule
    const keptVersions = ["v02", "v03", "v04", "v06", "v07", "v08", "v11", "v12"];
    expect(await ownTags()).toEqual(
      [
        ...keptVersions.map((v) => `${repo}:${v}`),
        `${repo}:rollback-1`,
        `${repo}:rollback-2`,
        `${repo}:rollback-3`,
        `${prefix}/foreign:1`,
      ].sort(),
    );
    const headline = Object.fromEntries(real.kept.map((k) => [k.tags[0], k.rules[0]]));
    expect(headline).toMatchObject({
      [`${repo}:v12`]: "in-use",
      [`${repo}:v02`]: "in-use",
      [`${repo}:rollback-1`]: "rollback",
      [`${repo}:rollback-2`]: "rollback",
      [`${repo}:rollback-3`]: "rollback",
      [`${repo}:v04`]: "newest",
      [`${repo}:v07`]: "newest",
      [`${repo}:v03`]: "young",
      [`${prefix}/foreign:1`]: "foreign",
    });
  });

  it("leaves every rollback target and kept version runnable from the local engine, without a registry", async () => {
    // Arrange
    const runnable = {
      "rollback-1": "v11",
      "rollback-2": "v08",
      "rollback-3": "v06",
      v02: "v02",
      v03: "v03",
      v04: "v04",
      v07: "v07",
      v12: "v12",
    };

    // Act
    const outputs: Record<string, string> = {};
    for (const tag of Object.keys(runnable))
      outputs[tag] = await docker(["run", "--rm", "--pull", "never", `${repo}:${tag}`, "cat", "/version"]);

    // Assert
    expect(outputs).toEqual(runnable);
  });

  it("is idempotent: a second prune removes nothing", async () => {
    // Arrange
    const deps = await depsFor(stateDir);
    const before = await ownTags();

    // Act
    const again = await runPrune(deps, { state: desiredState({}), machine: "m1", dryRun: false, scope });

    // Assert
    expect(again.removals).toEqual([]);
    expect(await ownTags()).toEqual(before);
  });

  it("treats 'in use' (409) as keep and goes on with the rest when one removal fails", async () => {
    // Arrange: keep 1 and no grace period turn v03, v04 and v07 into candidates
    const deps = await depsFor(stateDir);
    const plan = await runPrune(deps, { state: desiredState({ keep: 1, minAgeSeconds: 0 }), machine: "m1", dryRun: true, scope });
    expect(tagsOf(plan, "candidates")).toEqual(["v03", "v04", "v07"].map((v) => `${repo}:${v}`));
    containers.push(await docker(["create", "--name", `${prefix}-late-user`, `${repo}:v04`, "true"]));
    const failing: PruneDeps["engine"] = {
      ...deps.engine,
      removeImage: async (ref) => (ref === `${repo}:v03` ? Promise.reject(new Error("engine hiccup")) : deps.engine.removeImage(ref)),
    };

    // Act
    const removals = await executePrunePlan({ engine: failing, logger: deps.logger }, plan.candidates);

    // Assert
    expect(Object.fromEntries(removals.map((r) => [r.tags[0], r.outcome]))).toEqual({
      [`${repo}:v03`]: "failed",
      [`${repo}:v04`]: "in-use",
      [`${repo}:v07`]: "removed",
    });
    const remaining = await ownTags();
    expect(remaining).toContain(`${repo}:v03`);
    expect(remaining).toContain(`${repo}:v04`);
    expect(remaining).not.toContain(`${repo}:v07`);
  });

  it("removes images berth does not manage only with foreign: true, scoped to this test's repositories", async () => {
    // Arrange
    const deps = await depsFor(stateDir);

    // Act
    const off = await runPrune(deps, { state: desiredState({ minAgeSeconds: 0 }), machine: "m1", dryRun: true, scope });
    const on = await runPrune(deps, {
      state: desiredState({ minAgeSeconds: 0, foreign: true, keep: 0 }),
      machine: "m1",
      dryRun: false,
      scope: { ...scope, repositories: [`${prefix}/foreign`] },
    });

    // Assert
    expect(off.kept.find((k) => k.tags.includes(`${prefix}/foreign:1`))?.rules[0]).toBe("foreign");
    expect(on.removals.map((r) => [r.tags, r.rule, r.outcome])).toEqual([[[`${prefix}/foreign:1`], "foreign", "removed"]]);
    expect(await ownTags()).not.toContain(`${prefix}/foreign:1`);
  });
});
