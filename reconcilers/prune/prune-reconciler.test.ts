// The prune reconciler over a fake engine: dry run changes nothing, first-seen records, events, per-machine spec.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_PRUNE, DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import type { DesiredState, PruneSpec } from "../../desired-state/desired-state.ts";
import { silentLogger } from "../../platform/logger.ts";
import type { ObservedImage } from "../../platform/observed.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { pruneStatusKey, runPrune } from "./prune-reconciler.ts";
import type { PruneDeps } from "./prune-reconciler.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";

const NOW = Date.UTC(2026, 5, 1);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-prune-rec-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function img(n: number, tags: string[]): ObservedImage {
  return {
    id: `sha256:${n}`,
    repoTags: tags,
    repoDigests: [],
    labels: { "io.berth.managed": "true" },
    sizeBytes: 100 * n,
    created: 1000 * n,
  };
}

function fakeEngine(images: ObservedImage[]): PruneDeps["engine"] & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    observe: async () => ({ containers: [], images: images.map((i) => ({ ...i, repoTags: [...i.repoTags] })), takenAt: NOW }),
    removeImage: async (ref) => {
      const image = images.find((i) => i.id === ref || i.repoTags.includes(ref));
      if (!image) return "missing";
      removed.push(ref);
      image.repoTags = image.repoTags.filter((t) => t !== ref);
      if (image.repoTags.length === 0 || ref === image.id) images.splice(images.indexOf(image), 1);
      return "removed";
    },
    inspectImage: async (ref) =>
      images.some((i) => i.id === ref) ? { id: ref, sizeBytes: 0, labels: {}, layers: [], repoTags: [], created: "" } : undefined,
  };
}

function state(machinePrune: Partial<PruneSpec>): DesiredState {
  return {
    root: "/x",
    revision: "r",
    push: false,
    profiles: {},
    images: [],
    stacks: [],
    rollout: DEFAULT_ROLLOUT,
    resyncSeconds: 300,
    allowEmpty: true,
    machines: { m1: { name: "m1", profile: "p", hostnames: [], prune: { ...DEFAULT_PRUNE, ...machinePrune } } },
  };
}

describe("runPrune", () => {
  it(
    "records managed images it has never seen, keeps them, and prunes them on a later run (ties on the record go to the newer " +
      "creation date)",
    async () => {
      // Arrange
      const images = [img(1, ["berth/app:a"]), img(2, ["berth/app:b", "berth/app:latest"])];
      const engine = fakeEngine(images);
      const pruned: number[][] = [];
      const deps: PruneDeps = {
        engine,
        store: await openStatusStore(dir),
        lock: openSharedHostLock(dir),
        logger: silentLogger(),
        events: { ...noEvents, pruned: (n, bytes) => void pruned.push([n, bytes]) },
        clock: { now: () => NOW, sleep: async () => undefined },
      };

      // Act
      const dry = await runPrune(deps, {
        state: state({ keep: 1, minAgeSeconds: 0 }),
        machine: "m1",
        dryRun: true,
        scope: { dangling: false, buildCache: false },
      });
      const afterDry = deps.store.get(pruneStatusKey("m1"));
      const first = await runPrune(deps, {
        state: state({ keep: 1, minAgeSeconds: 0 }),
        machine: "m1",
        dryRun: false,
        scope: { dangling: false, buildCache: false },
      });
      const second = await runPrune(deps, {
        state: state({ keep: 1, minAgeSeconds: 0 }),
        machine: "m1",
        dryRun: false,
        scope: { dangling: false, buildCache: false },
      });

      // Assert
      expect(dry.kept.map((k) => k.rules[0])).toEqual(["unrecorded", "unrecorded"]);
      expect(afterDry).toBeUndefined();
      expect(first.removals).toEqual([]);
      expect(first.firstSeenRecorded).toBe(2);
      expect(second.removals.map((r) => [r.imageId, r.outcome, r.reclaimedBytes])).toEqual([["sha256:1", "removed", 100]]);
      expect(engine.removed).toEqual(["berth/app:a"]);
      expect(pruned).toEqual([
        [0, 0],
        [1, 100],
      ]);
      const status = deps.store.get(pruneStatusKey("m1"));
      expect(Object.keys(status?.records ?? {})).toEqual(["sha256:2"]);
      expect(status?.conditions.find((c) => c.type === "Ready")?.reason).toBe("Pruned");
    },
  );

  it("waits for a build holding the host lock before it looks at the engine", async () => {
    // Arrange
    const order: string[] = [];
    const engine = fakeEngine([]);
    const lock = openSharedHostLock(dir);
    const deps: PruneDeps = {
      engine: { ...engine, observe: async () => (order.push("prune observes"), engine.observe()) },
      store: await openStatusStore(dir),
      lock,
      logger: silentLogger(),
      events: noEvents,
      clock: { now: () => NOW, sleep: async () => undefined },
    };
    let release!: () => void;
    const build = lock.shared("build", async () => {
      order.push("build starts");
      await new Promise<void>((r) => (release = r));
      order.push("build ends");
    });

    // Act
    const prune = runPrune(deps, { state: state({}), machine: "m1", dryRun: false, scope: { dangling: false, buildCache: false } });
    await new Promise((r) => setTimeout(r, 30));
    release();
    await Promise.all([build, prune]);

    // Assert
    expect(order).toEqual(["build starts", "build ends", "prune observes"]);
  });
});
