// `berth prune --registry`: lists the tags of berth's repositories in the registry, works out what
// any machine needs (every machine's current content tags, this host's records), deletes the
// rest manifest by manifest through the distribution API, and records the counts for the metrics.
import { forMachine } from "../../desired-state/desired-state.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import type { Clock } from "../../platform/clock.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Observed } from "../../platform/observed.ts";
import type { BuildFacts, PinnedImage, RegistryPruneRecord, ResourceStatus, RollbackEntry } from "../../status/resource-status.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { SharedHostLock } from "../../status/shared-host-lock.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { FileHashCache } from "../images/hash-context.ts";
import { computeImageInputs } from "../images/image-inputs.ts";
import { imageRepository } from "../images/image-tags.ts";
import { registryHost } from "../images/registry-client.ts";
import { planRegistryPrune } from "./plan-registry-prune.ts";
import type { KeptManifest, RegistryManifest, RegistryNeed, RegistryTagFact } from "./plan-registry-prune.ts";
import type { RegistryApi } from "./registry-api.ts";
import { effectivePruneSpec, pruneStatusKey } from "./prune-reconciler.ts";

export type RegistryPruneDeps = {
  api: RegistryApi;
  engine: Pick<DockerEngine, "observe">;
  store: StatusStore;
  /** Taken exclusively only to write the record (the registry work runs beside builds). */
  lock: SharedHostLock;
  logger: Logger;
  clock: Clock;
  hashCache?: FileHashCache;
};

export type RegistryPruneRequest = { state: DesiredState; machine: string; dryRun: boolean };

/** `planned`: a dry run's deletion; the others are what the registry answered to the DELETE. */
export type RegistryDeletion = RegistryManifest & { outcome: "planned" | "deleted" | "missing" | "unsupported" | "failed"; error?: string };

export type RegistryPruneReport = {
  machine: string;
  registry: string;
  dryRun: boolean;
  repositories: string[];
  deletions: RegistryDeletion[];
  kept: KeptManifest[];
  /** Tags that went with the deleted manifests. */
  deletedTags: number;
  keptTags: number;
  /** Set when the registry does not allow deletes (405 / UNSUPPORTED): reported, not an error. */
  unsupported?: string;
  failed: number;
};

export async function runRegistryPrune(deps: RegistryPruneDeps, request: RegistryPruneRequest): Promise<RegistryPruneReport> {
  const { state, machine, dryRun } = request;
  const registry = state.registry;
  if (!registry) throw new Error("berth.yaml names no registry: there is nothing to prune in one");
  const host = registryHost(registry);
  const spec = effectivePruneSpec(state, machine);
  const repositories = [...new Set(state.images.map((image) => imageRepository(image.name, registry)))].sort();
  const observed = await deps.engine.observe();
  const needed = await neededRefs(state, deps.store.all(), observed, deps.hashCache);
  const tags: RegistryTagFact[] = [];
  for (const repository of repositories) tags.push(...(await tagFacts(deps.api, host, repository)));
  const plan = planRegistryPrune({ tags, needed, keep: spec.keep, minAgeMs: spec.minAgeSeconds * 1000, now: observed.takenAt });

  const deletions: RegistryDeletion[] = [];
  let unsupported: string | undefined;
  for (const manifest of plan.deletions) {
    if (dryRun) break;
    if (unsupported !== undefined) {
      deletions.push({ ...manifest, outcome: "unsupported" });
      continue;
    }
    const path = repositoryPath(host, manifest.repository);
    const outcome = await deps.api.deleteManifest(host, path, manifest.digest);
    if (outcome.kind === "unsupported") unsupported = outcome.message;
    deletions.push({ ...manifest, outcome: outcome.kind, ...("message" in outcome ? { error: outcome.message } : {}) });
    deps.logger.info(
      { repository: manifest.repository, digest: manifest.digest, tags: manifest.tags, outcome: outcome.kind },
      "registry prune",
    );
  }
  const deletedTags = deletions.filter((d) => d.outcome === "deleted").reduce((n, d) => n + d.tags.length, 0);
  const report: RegistryPruneReport = {
    machine,
    registry,
    dryRun,
    repositories,
    deletions: dryRun ? plan.deletions.map((d) => ({ ...d, outcome: "planned" as const })) : deletions,
    kept: plan.kept,
    deletedTags: dryRun ? 0 : deletedTags,
    keptTags: plan.kept.reduce((n, k) => n + k.tags.length, 0),
    ...(unsupported !== undefined ? { unsupported } : {}),
    failed: deletions.filter((d) => d.outcome === "failed").length,
  };
  if (!dryRun) await deps.lock.exclusive("prune --registry (record)", () => record(deps, report));
  return report;
}

/** `127.0.0.1:5000/org/app` → `org/app`, the repository path the distribution API names. */
function repositoryPath(host: string, repository: string): string {
  return repository.slice(host.length + 1);
}

async function tagFacts(api: RegistryApi, host: string, repository: string): Promise<RegistryTagFact[]> {
  const path = repositoryPath(host, repository);
  const tags = await api.listTags(host, path);
  const digests = await mapLimited(tags, (tag) => api.digestOf(host, path, tag));
  const unique = [...new Set(digests.filter((d): d is string => d !== undefined))];
  const created = new Map(unique.map((digest, i) => [digest, i]));
  const times = await mapLimited(unique, (digest) => api.createdAt(host, path, digest));
  return tags.map((tag, i) => {
    const digest = digests[i];
    const at = digest ? times[created.get(digest) ?? -1] : undefined;
    return { repository, tag, ...(digest ? { digest } : {}), ...(at !== undefined ? { created: at } : {}) };
  });
}

/** `fn` over `items` with at most 8 requests in flight, results in order. */
async function mapLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  const queue = items.map((item, i) => [item, i] as const);
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) out[job[1]] = await fn(job[0]);
  };
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
  return out;
}

/**
 * What must stay: every machine's current content tags and the images its stacks name, and of
 * this host the images its status records (current, rollback history, pins, builds) and its
 * containers hold, by every tag and registry digest the engine knows them under.
 */
export async function neededRefs(
  state: DesiredState,
  statuses: readonly ResourceStatus[],
  observed: Observed,
  hashCache?: FileHashCache,
): Promise<RegistryNeed[]> {
  const needed: RegistryNeed[] = [];
  for (const machine of Object.keys(state.machines).sort()) {
    const inputs = await computeImageInputs(state, machine, hashCache ? { cache: hashCache } : {});
    for (const input of inputs) if (!input.problem) needed.push({ ref: input.tag, rule: "current" });
    for (const stack of forMachine(state, machine).stacks)
      for (const service of stack.services) if (service.image) needed.push({ ref: service.image, rule: "current" });
  }
  const byId = new Map(observed.images.map((image) => [image.id, image]));
  const byImage = (imageId: string | undefined, rule: RegistryNeed["rule"]): void => {
    const image = imageId ? byId.get(imageId) : undefined;
    for (const ref of [...(image?.repoTags ?? []), ...(image?.repoDigests ?? [])]) needed.push({ ref, rule });
  };
  for (const record of statuses) {
    const status: ImageHolding = record;
    if (status.build) needed.push({ ref: status.build.tag, rule: "current" });
    byImage(status.build?.imageId, "current");
    byImage(status.current?.imageId, "current");
    byImage(status.image?.imageId, "current");
    if (status.image?.digest) needed.push({ ref: status.image.digest, rule: "current" });
    byImage(status.pinned?.imageId, "pinned");
    for (const entry of status.history ?? []) byImage(entry.imageId, "rollback");
  }
  for (const container of observed.containers) byImage(container.imageId, "current");
  return needed;
}

/** The fields of a status record that hold images (each kind of record has some of them). */
type ImageHolding = {
  key: string;
  build?: BuildFacts;
  current?: RollbackEntry;
  history?: RollbackEntry[];
  pinned?: { imageId: string };
  image?: PinnedImage;
};

async function record(deps: RegistryPruneDeps, report: RegistryPruneReport): Promise<void> {
  const key = pruneStatusKey(report.machine);
  const previous = deps.store.get(key);
  const registryPrune: RegistryPruneRecord = {
    registry: report.registry,
    at: deps.clock.now(),
    deletedTags: report.deletedTags,
    deletedTagsTotal: (previous?.registryPrune?.deletedTagsTotal ?? 0) + report.deletedTags,
    keptTags: report.keptTags,
    ...(report.unsupported !== undefined ? { unsupported: report.unsupported } : {}),
  };
  await deps.store.put({
    kind: "prune",
    key: formatKey(key),
    conditions: [],
    records: {},
    ...previous,
    registryPrune,
    updatedAt: new Date(deps.clock.now()).toISOString(),
  });
}
