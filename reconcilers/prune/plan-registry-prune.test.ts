// Fixture tests of the registry retention planner: berth's tag scheme, needs by tag and digest, newest per series, age.
import { describe, expect, it } from "vitest";
import { parseBerthTag, planRegistryPrune } from "./plan-registry-prune.ts";
import type { RegistryPrunePlanInput, RegistryTagFact } from "./plan-registry-prune.ts";

const NOW = Date.UTC(2026, 5, 10);
const DAY = 24 * 3_600_000;
const REPO = "reg.example:5000/org/app";

function digest(n: number): string {
  return `sha256:${String(n).padStart(64, "0")}`;
}

/** Build n of app for a machine: content tag, human tag, all on one manifest created `daysAgo`. */
function build(n: number, daysAgo: number, machine = "m1", extra: string[] = []): RegistryTagFact[] {
  const hash = n.toString(16).padStart(12, "a");
  const day = new Date(NOW - daysAgo * DAY).toISOString().slice(0, 10).replace(/-/g, "");
  return [`${hash}-${machine}`, `${day}-${String(n).padStart(7, "0")}-${machine}`, ...extra].map((tag) => ({
    repository: REPO,
    tag,
    digest: digest(n),
    created: NOW - daysAgo * DAY,
  }));
}

function input(partial: Partial<RegistryPrunePlanInput> & Pick<RegistryPrunePlanInput, "tags">): RegistryPrunePlanInput {
  return { needed: [], keep: 2, minAgeMs: DAY, now: NOW, ...partial };
}

const deleted = (plan: ReturnType<typeof planRegistryPrune>): string[] => plan.deletions.map((d) => d.digest).sort();

describe("parseBerthTag", () => {
  it("reads content, human and moving tags with their machine suffix, and nothing else", () => {
    expect(parseBerthTag("0123456789ab")).toEqual({ kind: "content", suffix: "" });
    expect(parseBerthTag("0123456789ab-gpu-1")).toEqual({ kind: "content", suffix: "gpu-1" });
    expect(parseBerthTag("20260601-abcdef0-m1")).toEqual({ kind: "human", suffix: "m1", day: Date.UTC(2026, 5, 1) });
    expect(parseBerthTag("latest-m1")).toEqual({ kind: "moving", suffix: "m1" });
    expect(parseBerthTag("buildcache")).toEqual({ kind: "moving", suffix: "" });
    for (const foreign of ["v1.2.3", "main", "0123456789ab-", "0123456789AB", "2026061-abcdef0", "20260601-ABCDEF0"])
      expect(parseBerthTag(foreign)).toBeUndefined();
  });
});

describe("planRegistryPrune", () => {
  it("keeps the newest `keep` manifests per image and machine and deletes the older ones with all their tags", () => {
    // Arrange: five builds for m1, two for m2
    const tags = [1, 2, 3, 4, 5].flatMap((n) => build(n, 10 - n)).concat(build(6, 9, "m2"), build(7, 8, "m2"));

    // Act
    const plan = planRegistryPrune(input({ tags }));

    // Assert: m1 keeps builds 5 and 4, m2 keeps both of its own
    expect(deleted(plan)).toEqual([digest(1), digest(2), digest(3)]);
    expect(plan.deletions[0]?.tags).toHaveLength(2);
    expect(plan.kept.map((k) => [k.digest, k.rules[0]])).toEqual([
      [digest(4), "newest"],
      [digest(5), "newest"],
      [digest(6), "newest"],
      [digest(7), "newest"],
    ]);
  });

  it("keeps what any machine needs, by tag or by registry digest, beyond the newest", () => {
    const tags = [1, 2, 3, 4, 5].flatMap((n) => build(n, 10 - n));
    const needed = [
      { ref: `${REPO}:${"1".padStart(12, "a")}-m1`, rule: "current" as const },
      { ref: `${REPO}@${digest(2)}`, rule: "rollback" as const },
    ];

    const plan = planRegistryPrune(input({ tags, needed }));

    expect(deleted(plan)).toEqual([digest(3)]);
    expect(plan.kept.find((k) => k.digest === digest(1))?.rules).toEqual(["current"]);
    expect(plan.kept.find((k) => k.digest === digest(2))?.rules).toEqual(["rollback"]);
  });

  it("never deletes a manifest that also carries a foreign or a moving tag (a DELETE would take that tag too)", () => {
    const tags = [
      ...build(1, 20, "m1", ["v1.0.0"]),
      ...build(2, 19, "m1", ["latest-m1"]),
      ...build(3, 18),
      ...build(4, 17),
      ...build(5, 16),
    ];

    const plan = planRegistryPrune(input({ tags }));

    expect(deleted(plan)).toEqual([digest(3)]);
    expect(plan.kept.find((k) => k.digest === digest(1))?.rules[0]).toBe("foreign");
    expect(plan.kept.find((k) => k.digest === digest(2))?.rules[0]).toBe("moving");
  });

  it("keeps manifests younger than minAge, and ranks by the human tag's day when the creation time is unknown", () => {
    const undated = (n: number, daysAgo: number): RegistryTagFact[] => build(n, daysAgo).map(({ created: _created, ...fact }) => fact);
    const tags = [...undated(1, 30), ...undated(2, 20), ...undated(3, 10), ...build(4, 0.5)];

    const plan = planRegistryPrune(input({ tags, keep: 1 }));

    // Build 4 is young and the newest; build 3 is the newest-but-one by day, not protected by keep 1.
    expect(deleted(plan)).toEqual([digest(1), digest(2), digest(3)]);
    expect(plan.kept.map((k) => k.rules)).toEqual([["newest", "young"]]);
  });

  it("keeps a tag whose digest could not be read, and a manifest with no date at all", () => {
    const tags: RegistryTagFact[] = [
      { repository: REPO, tag: "aaaaaaaaaaa1-m1" },
      { repository: REPO, tag: "aaaaaaaaaaa2-m1", digest: digest(2) },
      ...build(3, 5),
      ...build(4, 4),
      ...build(5, 3),
    ];

    const plan = planRegistryPrune(input({ tags }));

    expect(deleted(plan)).toEqual([digest(3)]);
    expect(plan.kept.filter((k) => k.rules[0] === "unresolved").map((k) => k.tags)).toEqual([["aaaaaaaaaaa1-m1"], ["aaaaaaaaaaa2-m1"]]);
  });
});
