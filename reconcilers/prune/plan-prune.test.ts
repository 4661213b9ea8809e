// Fixture tests of the prune planner: each keep rule, each remove rule, multi-tag images, scope and build cache.
import { describe, expect, it } from "vitest";
import { DEFAULT_PRUNE } from "../../desired-state/desired-state.ts";
import type { PruneSpec } from "../../desired-state/desired-state.ts";
import type { ObservedContainer, ObservedImage } from "../../platform/observed.ts";
import type { ResourceStatus } from "../../status/resource-status.ts";
import { planPrune, summarizePlan } from "./plan-prune.ts";
import type { PrunePlanInput } from "./plan-prune.ts";

const NOW = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function image(n: number, tags: string[], options: { managed?: boolean; createdMsAgo?: number } = {}): ObservedImage {
  return {
    id: `sha256:${String(n).padStart(64, "0")}`,
    repoTags: tags,
    repoDigests: [],
    labels: options.managed === false ? {} : { "io.berth.managed": "true" },
    sizeBytes: n * 1000,
    created: Math.floor((NOW - (options.createdMsAgo ?? 30 * DAY)) / 1000),
  };
}

function container(img: ObservedImage, state: string): ObservedContainer {
  return {
    id: `c-${img.id.slice(-4)}`,
    name: "c",
    image: img.repoTags[0] ?? img.id,
    imageId: img.id,
    labels: {},
    state,
    health: "none",
    created: 0,
    status: state,
  };
}

function records(entries: Record<string, number>): ResourceStatus {
  return { kind: "image", key: "image/m1/app", conditions: [], records: entries, updatedAt: "" };
}

function input(partial: Partial<PrunePlanInput> & { images: ObservedImage[] }, spec: Partial<PruneSpec> = {}): PrunePlanInput {
  return {
    spec: { ...DEFAULT_PRUNE, ...spec },
    containers: [],
    statuses: [],
    desiredRefs: [],
    managedPrefix: "reg/",
    now: NOW,
    scope: { dangling: true, buildCache: true },
    ...partial,
  };
}

const ids = (list: { imageId: string }[]): string[] => list.map((entry) => entry.imageId).sort();

describe("planPrune", () => {
  it("keeps the newest `keep` per repository by berth's record, not by the image's creation date", () => {
    // Arrange: v1 was created last but recorded first (pulled late); v4 was created first but recorded last
    const v1 = image(1, ["reg/app:v1"], { createdMsAgo: 1 * DAY });
    const v2 = image(2, ["reg/app:v2"], { createdMsAgo: 20 * DAY });
    const v3 = image(3, ["reg/app:v3"], { createdMsAgo: 30 * DAY });
    const v4 = image(4, ["reg/app:v4"], { createdMsAgo: 40 * DAY });
    const statuses = [
      records({ "reg/app:v1": NOW - 10 * DAY, "reg/app:v2": NOW - 9 * DAY, "reg/app:v3": NOW - 8 * DAY, "reg/app:v4": NOW - 7 * DAY }),
    ];

    // Act
    const plan = planPrune(input({ images: [v1, v2, v3, v4], statuses }, { keep: 3 }));

    // Assert
    expect(ids(plan.candidates)).toEqual([v1.id]);
    expect(plan.candidates[0]?.rule).toBe("superseded");
    expect(plan.kept.map((k) => k.rules[0])).toEqual(["newest", "newest", "newest"]);
  });

  it("keeps images of running and stopped containers, the current build, rollback history and the pinned image", () => {
    // Arrange
    const imgs = [1, 2, 3, 4, 5, 6].map((n) => image(n, [`reg/app:v${n}`]));
    const [v1, v2, v3, v4, v5, v6] = imgs as [ObservedImage, ObservedImage, ObservedImage, ObservedImage, ObservedImage, ObservedImage];
    const old = Object.fromEntries(imgs.map((img, i) => [img.repoTags[0] ?? "", NOW - (10 - i) * DAY]));
    const statuses: ResourceStatus[] = [
      records(old),
      {
        kind: "image",
        key: "image/m1/app",
        conditions: [],
        build: { inputHash: "h", tag: "reg/app:v6", imageId: v6.id, action: "build", sizeBytes: 1, recordedAt: NOW - 2 * DAY },
        updatedAt: "",
      },
      {
        kind: "service",
        key: "service/s/app",
        conditions: [],
        history: [{ imageId: v3.id, tag: "reg/app:rollback-1", revision: "r", specHash: "h", config: {}, recordedAt: 0 }],
        pinned: { imageId: v4.id, tag: "reg/app:v4", revision: "r", specHash: "h", desiredSpecHash: "d" },
        updatedAt: "",
      },
    ];

    // Act
    const plan = planPrune(input({ images: imgs, containers: [container(v1, "exited"), container(v2, "running")], statuses }, { keep: 1 }));

    // Assert
    expect(ids(plan.candidates)).toEqual([v5.id]);
    const rulesOf = (img: ObservedImage): string[] => plan.kept.find((k) => k.imageId === img.id)?.rules ?? [];
    expect(rulesOf(v1)).toEqual(["in-use"]);
    expect(rulesOf(v2)).toEqual(["in-use"]);
    expect(rulesOf(v3)).toEqual(["rollback"]);
    expect(rulesOf(v4)).toEqual(["pinned"]);
    expect(rulesOf(v6)).toEqual(["current", "newest"]);
  });

  it("keeps images younger than minAge by berth's record, and managed images without a record for one cycle", () => {
    // Arrange
    const young = image(1, ["reg/app:young"]);
    const unrecorded = image(2, ["reg/app:pulled-by-hand"], { createdMsAgo: 300 * DAY });
    const fillers = [3, 4].map((n) => image(n, [`reg/app:new${n}`]));
    const statuses = [records({ "reg/app:young": NOW - 2 * HOUR, "reg/app:new3": NOW - HOUR, "reg/app:new4": NOW - HOUR })];

    // Act
    const plan = planPrune(input({ images: [young, unrecorded, ...fillers], statuses }, { keep: 2, minAgeSeconds: 24 * 3600 }));

    // Assert
    expect(plan.candidates).toEqual([]);
    expect(plan.kept.find((k) => k.imageId === young.id)?.rules).toEqual(["young"]);
    expect(plan.kept.find((k) => k.imageId === unrecorded.id)?.rules).toEqual(["unrecorded"]);
    expect(plan.firstSeen).toEqual([{ imageId: unrecorded.id, at: NOW }]);
  });

  it("leaves images berth does not manage alone unless foreign is on, and then ages them by creation date", () => {
    // Arrange: one unlabelled image, one labelled outside berth's registry prefix, two old redis versions and a new one
    const redis = [1, 2, 3].map((n) => image(n, [`redis:${n}`], { managed: false, createdMsAgo: (10 - n) * DAY }));
    const otherTool = image(4, ["elsewhere/app:1"], { createdMsAgo: 90 * DAY });

    // Act
    const off = planPrune(input({ images: [...redis, otherTool] }, { keep: 1 }));
    const on = planPrune(input({ images: [...redis, otherTool] }, { keep: 1, foreign: true }));

    // Assert
    expect(off.candidates).toEqual([]);
    expect(new Set(off.kept.map((k) => k.rules[0]))).toEqual(new Set(["foreign"]));
    expect(ids(on.candidates)).toEqual([redis[0]?.id, redis[1]?.id].sort());
    expect(on.candidates.every((c) => c.rule === "foreign")).toBe(true);
  });

  it("decides per image id: a candidate with several tags is removed by every tag; a kept id keeps all its tags", () => {
    // Arrange
    const multi = image(1, ["reg/app:v1", "reg/app:20260101-abc"]);
    const rollbackTagged = image(2, ["reg/app:v2", "reg/app:rollback-1"]);
    const newest = image(3, ["reg/app:v3", "reg/app:latest"]);
    const statuses: ResourceStatus[] = [
      records({ "reg/app:v1": NOW - 9 * DAY, "reg/app:v2": NOW - 8 * DAY, "reg/app:v3": NOW - 7 * DAY }),
      {
        kind: "service",
        key: "service/s/app",
        conditions: [],
        history: [{ imageId: "sha256:gone", tag: "reg/app:rollback-1", revision: "r", specHash: "h", config: {}, recordedAt: 0 }],
        updatedAt: "",
      },
    ];

    // Act
    const plan = planPrune(input({ images: [multi, rollbackTagged, newest], statuses }, { keep: 1 }));

    // Assert
    expect(plan.candidates).toEqual([
      {
        imageId: multi.id,
        tags: ["reg/app:20260101-abc", "reg/app:v1"],
        refs: ["reg/app:20260101-abc", "reg/app:v1"],
        sizeBytes: 1000,
        rule: "superseded",
      },
    ]);
    expect(plan.kept.find((k) => k.imageId === rollbackTagged.id)?.rules).toEqual(["rollback"]);
  });

  it("removes dangling images by id once they are older than minAge by creation date, and only when dangling is in scope", () => {
    // Arrange
    const oldDangling = image(1, [], { managed: false, createdMsAgo: 3 * DAY });
    const freshDangling = image(2, [], { createdMsAgo: HOUR });

    // Act
    const on = planPrune(input({ images: [oldDangling, freshDangling] }));
    const off = planPrune(input({ images: [oldDangling, freshDangling], scope: { dangling: false, buildCache: false } }));

    // Assert
    expect(on.candidates).toEqual([{ imageId: oldDangling.id, tags: [], refs: [oldDangling.id], sizeBytes: 1000, rule: "dangling" }]);
    expect(on.kept.map((k) => k.rules)).toEqual([["young"]]);
    expect(off.candidates).toEqual([]);
    expect(off.kept).toEqual([]);
    expect(off.outOfScope).toBe(2);
  });

  it("considers only images whose every tag is inside the repository scope", () => {
    // Arrange
    const inside = image(1, ["reg/app:v1"]);
    const straddling = image(2, ["reg/app:v2", "someone/else:v2"]);
    const outside = image(3, ["other/app:v3"]);

    // Act
    const plan = planPrune(
      input(
        { images: [inside, straddling, outside], statuses: [records({ "reg/app:v1": 0, "reg/app:v2": 0 })] },
        { keep: 0, minAgeSeconds: 0 },
      ),
    );
    const scoped = planPrune(
      input(
        {
          images: [inside, straddling, outside],
          statuses: [records({ "reg/app:v1": 0, "reg/app:v2": 0 })],
          scope: { repositories: ["reg/"], dangling: false, buildCache: false },
        },
        { keep: 0, minAgeSeconds: 0 },
      ),
    );

    // Assert
    expect(ids(plan.candidates)).toEqual([inside.id, straddling.id]);
    expect(ids(scoped.candidates)).toEqual([inside.id]);
    expect(scoped.outOfScope).toBe(2);
  });

  it("prunes the build cache only above buildCacheMaxGiB and only when the cache is in scope", () => {
    // Arrange
    const gib = 1024 ** 3;

    // Act
    const above = planPrune(input({ images: [], buildCacheBytes: 3 * gib }, { buildCacheMaxGiB: 2 }));
    const below = planPrune(input({ images: [], buildCacheBytes: 1 * gib }, { buildCacheMaxGiB: 2 }));
    const outOfScope = planPrune(
      input({ images: [], buildCacheBytes: 3 * gib, scope: { dangling: false, buildCache: false } }, { buildCacheMaxGiB: 2 }),
    );

    // Assert
    expect(above.buildCache).toEqual({ action: "prune", usedBytes: 3 * gib, maxBytes: 2 * gib });
    expect(below.buildCache).toEqual({ action: "none" });
    expect(outOfScope.buildCache).toEqual({ action: "none" });
  });

  it("summarizes kept images by headline rule and candidates by rule", () => {
    // Arrange
    const a = image(1, ["reg/app:a"]);
    const b = image(2, ["reg/app:b"]);

    // Act
    const summary = summarizePlan(
      planPrune(
        input(
          { images: [a, b], containers: [container(a, "running")], statuses: [records({ "reg/app:a": 0, "reg/app:b": 0 })] },
          { keep: 0 },
        ),
      ),
    );

    // Assert
    expect(summary.kept["in-use"]).toBe(1);
    expect(summary.candidates.superseded).toBe(1);
    expect(summary.candidateBytes).toBe(2000);
  });
});
