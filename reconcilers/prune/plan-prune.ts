// Pure prune planner: one engine look + berth's records → which images to keep (and why) and which to remove.
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer, ObservedImage } from "../../platform/observed.ts";
import type { PruneSpec } from "../../desired-state/desired-state.ts";
import type { ResourceStatus } from "../../status/resource-status.ts";
import { compareText } from "../../platform/compare-text.ts";

/** Why an image stays. An image lists every rule that holds for it; the first is the headline. */
export type KeepRule = "in-use" | "current" | "pinned" | "rollback" | "foreign" | "newest" | "young" | "unrecorded";

/** Why a candidate may go. */
export type RemoveRule = "superseded" | "foreign" | "dangling";

export const KEEP_RULES = [
  "in-use",
  "current",
  "pinned",
  "rollback",
  "foreign",
  "newest",
  "young",
  "unrecorded",
] as const satisfies readonly KeepRule[];
export const REMOVE_RULES = ["superseded", "foreign", "dangling"] as const satisfies readonly RemoveRule[];

export type PruneScope = {
  /**
   * Repository prefixes ("berth-t-x1/" or "berth-t-x1/app"): when set, only images whose every tag
   * is inside them are considered at all (tests on a shared engine, `--repository`).
   */
  repositories?: readonly string[];
  /** Consider untagged images (global on an engine: off in tests). */
  dangling: boolean;
  /** Consider the BuildKit cache (global on an engine: off in tests). */
  buildCache: boolean;
};

export type PrunePlanInput = {
  spec: PruneSpec;
  containers: readonly ObservedContainer[];
  images: readonly ObservedImage[];
  /** Every status record of the state dir (service history and pins, image builds, records). */
  statuses: readonly ResourceStatus[];
  /** Image references the desired state runs or builds for this machine (kept as "current"). */
  desiredRefs: readonly string[];
  /** Repository prefix of the images berth builds and pulls: `<registry>/` or `berth/`. */
  managedPrefix: string;
  now: number;
  scope: PruneScope;
  /** Bytes the BuildKit cache holds, when it was measured. */
  buildCacheBytes?: number;
};

export type KeptImage = { imageId: string; tags: string[]; sizeBytes: number; rules: [KeepRule, ...KeepRule[]] };
export type PruneCandidate = {
  imageId: string;
  tags: string[];
  /** What to remove, in order: every tag (the last one deletes the image), or the id when untagged. */
  refs: string[];
  sizeBytes: number;
  rule: RemoveRule;
};
export type FirstSeenRecord = { imageId: string; at: number };
export type BuildCachePlan = { action: "none" } | { action: "prune"; usedBytes: number; maxBytes: number };

export type PrunePlan = {
  candidates: PruneCandidate[];
  kept: KeptImage[];
  /** Managed images berth has no record for: write "first seen = now" so they age from today. */
  firstSeen: FirstSeenRecord[];
  buildCache: BuildCachePlan;
  /** Images left out by `scope.repositories` or because they are untagged with dangling off. */
  outOfScope: number;
};

const GIB = 1024 ** 3;

/** The keep-set and the candidates, decided per image id. */
export function planPrune(input: PrunePlanInput): PrunePlan {
  const { spec, now } = input;
  const tagToId = new Map<string, string>();
  for (const image of input.images) for (const tag of image.repoTags) tagToId.set(tag, image.id);
  const idOf = (ref: string): string | undefined => (ref.startsWith("sha256:") ? ref : tagToId.get(normalizeRef(ref)));

  const reasons = new Map<string, Set<KeepRule>>();
  const keep = (id: string | undefined, rule: KeepRule): void => {
    if (id === undefined) return;
    let set = reasons.get(id);
    if (!set) reasons.set(id, (set = new Set()));
    set.add(rule);
  };

  for (const container of input.containers) {
    keep(container.imageId, "in-use");
    keep(idOf(container.image), "in-use");
  }
  for (const ref of input.desiredRefs) keep(idOf(ref), "current");

  const recordedAt = new Map<string, number>();
  const record = (id: string | undefined, at: number): void => {
    if (id === undefined || !Number.isFinite(at)) return;
    recordedAt.set(id, Math.max(recordedAt.get(id) ?? Number.NEGATIVE_INFINITY, at));
  };
  for (const status of input.statuses) {
    if (status.kind === "image" && status.build) {
      keep(status.build.imageId, "current");
      keep(idOf(status.build.tag), "current");
      record(status.build.imageId, status.build.recordedAt);
    }
    if (status.kind === "service") {
      // The image a service is pinned to (an image berth does not build), even before it runs.
      if (status.image) keep(status.image.imageId, "current");
      if (status.pinned) {
        keep(status.pinned.imageId, "pinned");
        keep(idOf(status.pinned.tag), "pinned");
      }
      for (const entry of status.history ?? []) {
        keep(entry.imageId, "rollback");
        keep(idOf(entry.tag), "rollback");
      }
    }
    if (status.kind === "image" || status.kind === "prune")
      for (const [ref, at] of Object.entries(status.records ?? {})) record(idOf(ref), at);
  }

  const isManaged = (image: ObservedImage): boolean =>
    image.labels[LABELS.managed] === "true" &&
    (image.repoTags.length === 0 || image.repoTags.some((tag) => tag.startsWith(input.managedPrefix)));
  /** Berth's record; the engine's creation time only for images berth does not manage or that lost every tag. */
  const ageBase = (image: ObservedImage): number | undefined =>
    recordedAt.get(image.id) ?? (isManaged(image) && image.repoTags.length > 0 ? undefined : image.created * 1000);

  // Newest `keep` per repository, ranked by berth's record over every image of the engine.
  const byRepository = new Map<string, ObservedImage[]>();
  for (const image of input.images) {
    for (const repo of new Set(image.repoTags.map((tag) => repositoryOf(tag)))) {
      const list = byRepository.get(repo);
      if (list) list.push(image);
      else byRepository.set(repo, [image]);
    }
  }
  for (const list of byRepository.values()) {
    const ranked = list
      .map((image) => ({ image, at: ageBase(image) }))
      .filter((entry): entry is { image: ObservedImage; at: number } => entry.at !== undefined)
      .sort((a, b) => b.at - a.at || b.image.created - a.image.created || compareText(a.image.id, b.image.id));
    for (const entry of ranked.slice(0, spec.keep)) keep(entry.image.id, "newest");
  }

  const candidates: PruneCandidate[] = [];
  const kept: KeptImage[] = [];
  const firstSeen: FirstSeenRecord[] = [];
  let outOfScope = 0;
  const minAgeMs = spec.minAgeSeconds * 1000;
  for (const image of input.images) {
    const dangling = image.repoTags.length === 0;
    if (dangling ? !input.scope.dangling : !inScope(image.repoTags, input.scope.repositories)) {
      outOfScope += 1;
      continue;
    }
    const managed = isManaged(image);
    const base = ageBase(image);
    if (base === undefined) {
      keep(image.id, "unrecorded");
      firstSeen.push({ imageId: image.id, at: now });
    } else if (now - base < minAgeMs) keep(image.id, "young");
    if (!dangling && !managed && !spec.foreign) keep(image.id, "foreign");

    const tags = [...image.repoTags].sort();
    const rules = reasons.get(image.id);
    const ordered = rules ? KEEP_RULES.filter((rule) => rules.has(rule)) : [];
    const [first, ...rest] = ordered;
    if (first !== undefined) {
      kept.push({ imageId: image.id, tags, sizeBytes: image.sizeBytes, rules: [first, ...rest] });
      continue;
    }
    const rule: RemoveRule = dangling ? "dangling" : managed ? "superseded" : "foreign";
    candidates.push({ imageId: image.id, tags, refs: dangling ? [image.id] : tags, sizeBytes: image.sizeBytes, rule });
  }

  return { candidates, kept, firstSeen, buildCache: planBuildCache(input), outOfScope };
}

function planBuildCache(input: PrunePlanInput): BuildCachePlan {
  const max = input.spec.buildCacheMaxGiB;
  if (!input.scope.buildCache || max === undefined || input.buildCacheBytes === undefined) return { action: "none" };
  const maxBytes = Math.floor(max * GIB);
  return input.buildCacheBytes > maxBytes ? { action: "prune", usedBytes: input.buildCacheBytes, maxBytes } : { action: "none" };
}

/** `repo:tag` → `repo` (a registry port is not a tag). */
export function repositoryOf(tag: string): string {
  const colon = tag.lastIndexOf(":");
  return colon > tag.lastIndexOf("/") ? tag.slice(0, colon) : tag;
}

/** The engine lists `name` as `name:latest`; match references the same way. */
function normalizeRef(ref: string): string {
  return repositoryOf(ref) === ref ? `${ref}:latest` : ref;
}

function inScope(tags: readonly string[], prefixes: readonly string[] | undefined): boolean {
  if (prefixes === undefined) return true;
  return tags.every((tag) => prefixes.some((prefix) => tag.startsWith(prefix)));
}

/** Kept and candidate counts by rule (a kept image counts under its headline rule). */
export function summarizePlan(plan: PrunePlan): {
  kept: Record<KeepRule, number>;
  candidates: Record<RemoveRule, number>;
  candidateBytes: number;
} {
  const kept = Object.fromEntries(KEEP_RULES.map((rule) => [rule, 0])) as Record<KeepRule, number>;
  const candidates = Object.fromEntries(REMOVE_RULES.map((rule) => [rule, 0])) as Record<RemoveRule, number>;
  for (const image of plan.kept) kept[image.rules[0]] += 1;
  let candidateBytes = 0;
  for (const candidate of plan.candidates) {
    candidates[candidate.rule] += 1;
    candidateBytes += candidate.sizeBytes;
  }
  return { kept, candidates, candidateBytes };
}
