// Persisted status of each resource berth reconciles, one type per kind (image, service, stack, source, prune).
import type { Condition } from "./conditions.ts";
import type { ImageReason, PruneReason, ServiceReason, SourceReason, StackReason } from "./reasons.ts";

export type BuildFacts = {
  inputHash: string;
  /** Local tag that holds the image, e.g. registry/name:hash12[-machine]. */
  tag: string;
  imageId: string;
  action: "build" | "pull" | "reuse";
  durationSeconds?: number;
  cacheHitRatio?: number;
  /** false when the build had no cache to hit (first build here, no registry cache): no cache-hit budget. */
  cacheExisted?: boolean;
  sizeBytes: number;
  /** Bytes of layers shared with the parent image. */
  sharedBytes?: number;
  previousSizeBytes?: number;
  /** Unix ms when this host built or pulled it (prune's record, not the image's creation date). */
  recordedAt: number;
};

/** The vulnerability gate's last look at an image (see docs/images.md). */
export type VulnerabilityFacts = {
  imageId: string;
  scanner: string;
  /** The scanner's database version the findings were taken with. */
  dbVersion?: string;
  /** Unix ms of the scan (a cached result keeps its scan time). */
  scannedAt?: number;
  /** Findings by severity (critical … unknown), without ignored-unfixed and allowed ones. */
  counts?: Record<string, number>;
  /** Ids at a failOn severity that no allow entry covers. */
  blocking?: string[];
  /** Why the scan failed (scanner missing, non-zero exit, unreadable report). */
  failed?: string;
};

export type RollbackEntry = {
  /** Image id and the rollback tag pointing at it. */
  imageId: string;
  tag: string;
  revision: string;
  specHash: string;
  /** Effective compose service config that ran healthily with this image. */
  config: Record<string, unknown>;
  recordedAt: number;
};

/** The image a service runs when berth does not build it: its reference and what berth pinned it to. */
export type PinnedImage = {
  ref: string;
  imageId: string;
  /** `repo@sha256:…` as the registry named it, when the image came from one (pulled again by it). */
  digest?: string;
  /** Set by `berth retry`: pull the reference again on the next pass. */
  refresh?: true;
};

/** What every status record holds: its key (`formatKey`), kind, conditions and revisions. */
type StatusBase<K extends string, R extends string> = {
  kind: K;
  /** `formatKey` of the resource: "image/<machine>/<name>", "service/<stack>/<service>", "stack/<name>", "source", "prune/<machine>". */
  key: string;
  conditions: Condition<R>[];
  observedRevision?: string;
  lastAppliedRevision?: string;
  updatedAt: string;
};

/** A budget an image breached at its last judgement, and its limit (the berth.yaml value: MiB, seconds, a ratio). */
export type ExceededBudget = { budget: "sizeMiB" | "buildSeconds" | "cacheHitRatio" | "minReduction"; limit: number };

/** One image of this machine: what built or pulled it, and the input hash whose build failed. */
export type ImageStatus = StatusBase<"image", ImageReason> & {
  build?: BuildFacts;
  /** An image's last vulnerability scan, when the gate is on. */
  vulnerabilities?: VulnerabilityFacts;
  /** The budgets the image breaches (with a BudgetExceeded condition). */
  budgets?: ExceededBudget[];
  /** (revision, input hash) whose build failed: not built again until the inputs change or retry. */
  failed?: { revision: string; inputHash: string; reason: string; message: string; at: number };
  /** Image builds/pulls this host recorded, for prune's keep-newest rule (image tag → unix ms). */
  records?: Record<string, number>;
};

/** One compose service: the version it runs, its rollback history, and what holds it. */
export type ServiceStatus = StatusBase<"service", ServiceReason> & {
  /** The version a service runs now (image, spec hash, effective config), once it ran healthily. */
  current?: RollbackEntry;
  /** Newest first; rollback-1 is entry 0. */
  history?: RollbackEntry[];
  /** (revision, specHash) that failed and must not be retried until the spec changes or retry. */
  failed?: { revision: string; specHash: string; reason: string; message: string; at: number };
  /** Pinned by a manual rollback until the desired state changes or retry. */
  pinned?: { imageId: string; tag: string; revision: string; specHash: string; desiredSpecHash: string };
  /** A service whose image berth does not build: the image it is pinned to. */
  image?: PinnedImage;
};

/** One compose stack: its services' readiness, and the revisions (kept here, not on every service). */
export type StackStatus = StatusBase<"stack", StackReason>;

/** The host's pass record: the desired state's revision, its validity and the host's readiness. */
export type SourceStatus = StatusBase<"source", SourceReason>;

/** One machine's prune: its last result and first-seen records (image id → unix ms). */
export type PruneStatus = StatusBase<"prune", PruneReason> & {
  records?: Record<string, number>;
  /** The last `berth prune --registry`. */
  registryPrune?: RegistryPruneRecord;
};

/** The last `berth prune --registry` of a machine: tags deleted then and in all, tags kept, deletes refused. */
export type RegistryPruneRecord = {
  registry: string;
  at: number;
  deletedTags: number;
  deletedTagsTotal: number;
  keptTags: number;
  unsupported?: string;
};

export type ResourceStatus = ImageStatus | ServiceStatus | StackStatus | SourceStatus | PruneStatus;
export type StatusKind = ResourceStatus["kind"];
export type StatusOf<K extends StatusKind> = Extract<ResourceStatus, { kind: K }>;
