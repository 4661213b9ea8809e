// Property: over random host histories, prune never removes an image of the keep-set and always removes the rest.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PruneSpec } from "../../desired-state/desired-state.ts";
import type { ObservedImage } from "../../platform/observed.ts";
import { planPrune, repositoryOf } from "./plan-prune.ts";
import type { PruneScope } from "./plan-prune.ts";
import { simulateWorld, WORLD_PREFIX } from "./prune-world.ts";
import type { World, WorldOp } from "./prune-world.ts";

const opArb: fc.Arbitrary<WorldOp> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("build" as const), service: fc.nat(5), moveLatest: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant("swap" as const), service: fc.nat(5) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant("rollback" as const), service: fc.nat(5) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("stop-container" as const), service: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("foreign" as const), repo: fc.nat(3), used: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("dangling" as const), managed: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("untag" as const), pick: fc.nat(200) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("unrecorded" as const), service: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("extra-tag" as const), pick: fc.nat(200) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("advance" as const), hours: fc.integer({ min: 1, max: 60 }) }), weight: 4 },
);

const specArb: fc.Arbitrary<PruneSpec> = fc.record({
  schedule: fc.constant("0 4 * * *"),
  keep: fc.integer({ min: 1, max: 4 }),
  minAgeSeconds: fc.constantFrom(0, 3600, 24 * 3600, 72 * 3600),
  foreign: fc.boolean(),
});

const scopeArb: fc.Arbitrary<PruneScope> = fc.record({
  repositories: fc.constantFrom(undefined, [WORLD_PREFIX], [WORLD_PREFIX, "foreign1"]),
  dangling: fc.boolean(),
  buildCache: fc.constant(false),
});

const caseArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 80 }),
  services: fc.integer({ min: 1, max: 4 }),
  historyLength: fc.integer({ min: 1, max: 4 }),
  spec: specArb,
  scope: scopeArb,
});

/**
 * The keep-set written straight from the issue, rule by rule, independently of the planner:
 * container images, current/pinned/rollback images, newest N per repository by berth's record,
 * younger than minAge, managed without a record, unmanaged (unless foreign).
 */
function oracleKeepSet(world: World, spec: PruneSpec): Set<string> {
  const byTag = new Map(world.images.flatMap((image) => image.repoTags.map((tag) => [tag, image.id] as const)));
  const keep = new Set<string>();
  const add = (id: string | undefined): void => void (id !== undefined && keep.add(id));
  for (const c of world.containers) add(c.imageId);
  for (const ref of world.desiredRefs) add(byTag.get(ref));
  const recorded = new Map<string, number>();
  const note = (id: string | undefined, at: number): void =>
    void (id !== undefined && recorded.set(id, Math.max(at, recorded.get(id) ?? -Infinity)));
  for (const status of world.statuses) {
    if (status.kind === "image" && status.build) {
      add(status.build.imageId);
      add(byTag.get(status.build.tag));
      note(status.build.imageId, status.build.recordedAt);
    }
    if (status.kind === "service") {
      if (status.pinned) add(status.pinned.imageId);
      for (const entry of status.history ?? []) {
        add(entry.imageId);
        add(byTag.get(entry.tag));
      }
    }
    if (status.kind === "image" || status.kind === "prune")
      for (const [tag, at] of Object.entries(status.records ?? {})) note(byTag.get(tag), at);
  }
  const managed = (image: ObservedImage): boolean =>
    image.labels["io.berth.managed"] === "true" && (image.repoTags.length === 0 || image.repoTags.some((t) => t.startsWith(WORLD_PREFIX)));
  const time = (image: ObservedImage): number | undefined =>
    recorded.get(image.id) ?? (managed(image) && image.repoTags.length > 0 ? undefined : image.created * 1000);
  const before = (a: ObservedImage, b: ObservedImage): boolean => {
    const ta = time(a) as number;
    const tb = time(b) as number;
    return ta !== tb ? ta > tb : a.created !== b.created ? a.created > b.created : a.id < b.id;
  };
  for (const image of world.images) {
    const t = time(image);
    if (t === undefined) add(image.id);
    else {
      if (world.now - t < spec.minAgeSeconds * 1000) add(image.id);
      for (const repo of new Set(image.repoTags.map(repositoryOf))) {
        const ahead = world.images.filter(
          (other) =>
            other !== image &&
            other.repoTags.some((tag) => repositoryOf(tag) === repo) &&
            time(other) !== undefined &&
            before(other, image),
        );
        if (ahead.length < spec.keep) add(image.id);
      }
    }
    if (image.repoTags.length > 0 && !managed(image) && !spec.foreign) add(image.id);
  }
  return keep;
}

function inScope(image: ObservedImage, scope: PruneScope): boolean {
  if (image.repoTags.length === 0) return scope.dangling;
  return scope.repositories === undefined || image.repoTags.every((tag) => scope.repositories?.some((prefix) => tag.startsWith(prefix)));
}

describe("planPrune over random histories", () => {
  it("never plans to remove an image of the keep-set, and plans to remove every other image in scope", () => {
    fc.assert(
      fc.property(caseArb, ({ ops, services, historyLength, spec, scope }) => {
        // Arrange
        const world = simulateWorld(ops, { services, historyLength });
        const expectedKeep = oracleKeepSet(world, spec);

        // Act
        const plan = planPrune({ spec, ...world, managedPrefix: WORLD_PREFIX, scope });

        // Assert
        const considered = world.images.filter((image) => inScope(image, scope)).map((image) => image.id);
        const candidateIds = plan.candidates.map((c) => c.imageId);
        expect(candidateIds.filter((id) => expectedKeep.has(id))).toEqual([]);
        expect(new Set(candidateIds)).toEqual(new Set(considered.filter((id) => !expectedKeep.has(id))));
        expect(new Set(plan.kept.map((k) => k.imageId))).toEqual(new Set(considered.filter((id) => expectedKeep.has(id))));
        expect(plan.outOfScope).toBe(world.images.length - considered.length);
      }),
      { numRuns: 400 },
    );
  });

  it("after carrying the plan out, exactly the keep-set remains and every container, rollback and pinned image is still there", () => {
    fc.assert(
      fc.property(caseArb, ({ ops, services, historyLength, spec, scope }) => {
        // Arrange
        const world = simulateWorld(ops, { services, historyLength });
        const plan = planPrune({ spec, ...world, managedPrefix: WORLD_PREFIX, scope });
        const engine = new Map(world.images.map((image) => [image.id, [...image.repoTags]]));

        // Act: remove by reference as the engine does (untag; the last tag or the id deletes)
        for (const candidate of plan.candidates) {
          for (const ref of candidate.refs) {
            const entry = [...engine.entries()].find(([id, tags]) => id === ref || tags.includes(ref));
            if (!entry) continue;
            const [id, tags] = entry;
            const rest = tags.filter((tag) => tag !== ref);
            if (rest.length === 0 || ref === id) engine.delete(id);
            else engine.set(id, rest);
          }
        }

        // Assert
        const remaining = new Set(engine.keys());
        const expectedKeep = oracleKeepSet(world, spec);
        for (const image of world.images) {
          const shouldRemain = expectedKeep.has(image.id) || !inScope(image, scope);
          expect(remaining.has(image.id)).toBe(shouldRemain);
          if (shouldRemain) expect(engine.get(image.id)).toEqual(image.repoTags);
        }
        const protectedIds = [
          ...world.containers.map((c) => c.imageId),
          ...world.statuses.flatMap((s) =>
            s.kind === "service"
              ? [...(s.history ?? []).map((h) => h.imageId), ...(s.pinned ? [s.pinned.imageId] : [])]
              : s.kind === "image" && s.build
                ? [s.build.imageId]
                : [],
          ),
        ];
        for (const id of protectedIds) if (world.images.some((image) => image.id === id)) expect(remaining.has(id)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
