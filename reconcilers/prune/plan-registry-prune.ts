// Pure registry retention planner: the tags of berth's repositories in a shared registry + what
// any machine needs → which manifests to delete (every tag on them berth-made and unneeded).
import { compareText } from "../../platform/compare-text.ts";

/** One tag as the registry lists it; `digest` from a HEAD of the tag, `created` from the image config. */
export type RegistryTagFact = { repository: string; tag: string; digest?: string; created?: number };

/** Why a manifest stays. A manifest lists every rule that holds for it; the first is the headline. */
export type RegistryKeepRule = "current" | "pinned" | "rollback" | "foreign" | "moving" | "newest" | "young" | "unresolved";

export const REGISTRY_KEEP_RULES = [
  "current",
  "pinned",
  "rollback",
  "foreign",
  "moving",
  "newest",
  "young",
  "unresolved",
] as const satisfies readonly RegistryKeepRule[];

/** A reference some machine needs: `repo:tag` or `repo@sha256:…`. */
export type RegistryNeed = { ref: string; rule: "current" | "pinned" | "rollback" };

export type RegistryPrunePlanInput = {
  tags: readonly RegistryTagFact[];
  needed: readonly RegistryNeed[];
  /** Newest manifests kept per repository and machine suffix (prune.keep). */
  keep: number;
  /** Manifests younger than this stay: CI may have pushed them for a commit this host has not seen yet. */
  minAgeMs: number;
  now: number;
};

export type RegistryManifest = { repository: string; digest: string; tags: string[] };
export type KeptManifest = { repository: string; digest?: string; tags: string[]; rules: [RegistryKeepRule, ...RegistryKeepRule[]] };
export type RegistryPrunePlan = { deletions: RegistryManifest[]; kept: KeptManifest[] };

/** What a tag of berth's scheme says (reconcilers/images/image-tags.ts); undefined for a tag berth did not make. */
export type BerthTag = { kind: "content" | "human" | "moving"; suffix: string; day?: number };

const SUFFIX = "(?:-([a-z0-9][a-z0-9_.-]*))?";
const CONTENT = new RegExp(`^[0-9a-f]{12}${SUFFIX}$`);
const HUMAN = new RegExp(`^(\\d{4})(\\d{2})(\\d{2})-[0-9a-f]{7}${SUFFIX}$`);
const MOVING = new RegExp(`^(?:latest|buildcache)${SUFFIX}$`);

/** Content tag `<hash12>[-machine]`, human tag `<YYYYMMDD>-<rev7>[-machine]`, moving `latest`/`buildcache[-machine]`. */
export function parseBerthTag(tag: string): BerthTag | undefined {
  const content = CONTENT.exec(tag);
  if (content) return { kind: "content", suffix: content[1] ?? "" };
  const human = HUMAN.exec(tag);
  if (human) {
    const day = Date.UTC(Number(human[1]), Number(human[2]) - 1, Number(human[3]));
    return Number.isFinite(day) ? { kind: "human", suffix: human[4] ?? "", day } : undefined;
  }
  const moving = MOVING.exec(tag);
  return moving ? { kind: "moving", suffix: moving[1] ?? "" } : undefined;
}

/** `rules`: one bit per entry of REGISTRY_KEEP_RULES (thousands of groups: no Set each). */
type Group = { repository: string; digest: string; tags: string[]; created: number | undefined; rules: number };

const bit = (rule: RegistryKeepRule): number => 1 << REGISTRY_KEEP_RULES.indexOf(rule);

/**
 * Groups tags by manifest (a DELETE removes the manifest with every tag on it), keeps a manifest
 * when any rule holds, and deletes the rest. A tag whose digest is unknown is kept.
 */
export function planRegistryPrune(input: RegistryPrunePlanInput): RegistryPrunePlan {
  const needByRef = new Map<string, RegistryNeed["rule"]>();
  for (const need of input.needed) if (!needByRef.has(need.ref)) needByRef.set(need.ref, need.rule);
  const kept: KeptManifest[] = [];
  const groups = new Map<string, Group>();
  for (const fact of input.tags) {
    if (fact.digest === undefined) {
      kept.push({ repository: fact.repository, tags: [fact.tag], rules: ["unresolved"] });
      continue;
    }
    const id = `${fact.repository}@${fact.digest}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { repository: fact.repository, digest: fact.digest, tags: [], created: fact.created, rules: 0 }));
    group.tags.push(fact.tag);
    group.created ??= fact.created;
  }

  const series = new Map<string, { group: Group; at: number }[]>();
  for (const group of groups.values()) {
    const need = needByRef.get(`${group.repository}@${group.digest}`);
    if (need) group.rules |= bit(need);
    let humanDay: number | undefined;
    const suffixes = new Set<string>();
    for (const tag of group.tags) {
      const rule = needByRef.get(`${group.repository}:${tag}`);
      if (rule) group.rules |= bit(rule);
      const parsed = parseBerthTag(tag);
      if (!parsed) group.rules |= bit("foreign");
      else if (parsed.kind === "moving") group.rules |= bit("moving");
      else suffixes.add(parsed.suffix);
      if (parsed?.day !== undefined) humanDay = Math.max(humanDay ?? parsed.day, parsed.day);
    }
    const at = group.created ?? humanDay;
    if (at === undefined) group.rules |= bit("unresolved");
    else if (input.now - at < input.minAgeMs) group.rules |= bit("young");
    if (at === undefined) continue;
    for (const suffix of suffixes) {
      const key = `${group.repository} ${suffix}`;
      const list = series.get(key);
      if (list) list.push({ group, at });
      else series.set(key, [{ group, at }]);
    }
  }
  for (const list of series.values()) {
    list.sort((a, b) => b.at - a.at || compareText(a.group.digest, b.group.digest));
    for (const entry of list.slice(0, input.keep)) entry.group.rules |= bit("newest");
  }

  const deletions: RegistryManifest[] = [];
  for (const group of [...groups.values()].sort((a, b) => compareText(a.repository, b.repository) || compareText(a.digest, b.digest))) {
    const tags = [...group.tags].sort(compareText);
    const [first, ...rest] = group.rules === 0 ? [] : REGISTRY_KEEP_RULES.filter((rule) => (group.rules & bit(rule)) !== 0);
    if (first === undefined) deletions.push({ repository: group.repository, digest: group.digest, tags });
    else kept.push({ repository: group.repository, digest: group.digest, tags, rules: [first, ...rest] });
  }
  return { deletions, kept };
}
