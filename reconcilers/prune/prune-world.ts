// A simulated host history (builds, swaps, rollbacks, stopped containers, foreign and dangling images) for prune's tests and bench.
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer, ObservedImage } from "../../platform/observed.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { ResourceStatus, RollbackEntry } from "../../status/resource-status.ts";

export type WorldOp =
  | { kind: "build"; service: number; moveLatest: boolean }
  | { kind: "swap"; service: number }
  | { kind: "rollback"; service: number }
  | { kind: "stop-container"; service: number }
  | { kind: "foreign"; repo: number; used: boolean }
  | { kind: "dangling"; managed: boolean }
  | { kind: "untag"; pick: number }
  | { kind: "unrecorded"; service: number }
  | { kind: "extra-tag"; pick: number }
  | { kind: "advance"; hours: number };

export type World = {
  images: ObservedImage[];
  containers: ObservedContainer[];
  statuses: ResourceStatus[];
  desiredRefs: string[];
  now: number;
};

type ServiceState = {
  running?: string;
  current?: string;
  history: RollbackEntry[];
  pinned?: RollbackEntry;
  rollbackSeq: number;
  records: Record<string, number>;
  build?: { tag: string; imageId: string; recordedAt: number };
};

export const WORLD_PREFIX = "berth/";
const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** Replays the operations on an empty host and returns what the engine and the state dir then hold. */
export function simulateWorld(ops: readonly WorldOp[], options: { services: number; historyLength: number }): World {
  let now = START;
  let seq = 0;
  const images = new Map<string, ObservedImage>();
  const containers: ObservedContainer[] = [];
  const services: ServiceState[] = Array.from({ length: options.services }, () => ({ history: [], rollbackSeq: 0, records: {} }));
  const repoOf = (service: number): string => `${WORLD_PREFIX}s${service}`;

  function newImage(tags: string[], managed: boolean): ObservedImage {
    seq += 1;
    const image: ObservedImage = {
      id: `sha256:${seq.toString(16).padStart(64, "0")}`,
      repoTags: tags,
      repoDigests: [],
      labels: managed ? { [LABELS.managed]: "true" } : {},
      sizeBytes: 1_000_000 + ((seq * 7919) % 50_000_000),
      // Creation dates are unrelated to when berth recorded the image (pulled images are old).
      created: Math.floor((START - ((seq * 104_729) % 1_000) * HOUR) / 1000),
    };
    images.set(image.id, image);
    return image;
  }
  function untag(tag: string): void {
    for (const image of images.values()) image.repoTags = image.repoTags.filter((t) => t !== tag);
  }
  function addContainer(imageId: string, state: string, service: number | undefined): void {
    const image = images.get(imageId);
    containers.push({
      id: `c${containers.length}`,
      name: `c${containers.length}`,
      image: image?.repoTags[0] ?? imageId,
      imageId,
      labels: service === undefined ? {} : { [LABELS.service]: `s${service}` },
      state,
      health: "none",
      created: Math.floor(now / 1000),
      status: state,
    });
  }

  for (const op of ops) {
    const s = "service" in op ? services[op.service % services.length] : undefined;
    const index = "service" in op ? op.service % services.length : 0;
    switch (op.kind) {
      case "build": {
        if (!s) break;
        const tag = `${repoOf(index)}:h${seq + 1}`;
        const latest = `${repoOf(index)}:latest`;
        if (op.moveLatest) untag(latest);
        const image = newImage(op.moveLatest ? [tag, latest] : [tag], true);
        s.current = image.id;
        s.records[tag] = now;
        s.build = { tag, imageId: image.id, recordedAt: now };
        break;
      }
      case "swap": {
        if (!s?.current || s.current === s.running) break;
        if (s.running) {
          s.rollbackSeq += 1;
          const tag = `${repoOf(index)}:rollback-${s.rollbackSeq}`;
          untag(tag);
          images.get(s.running)?.repoTags.push(tag);
          s.history = [{ imageId: s.running, tag, revision: "r", specHash: "h", config: {}, recordedAt: now }, ...s.history].slice(
            0,
            options.historyLength,
          );
        }
        s.running = s.current;
        s.pinned = undefined;
        break;
      }
      case "rollback": {
        const [target, ...rest] = s?.history ?? [];
        if (!s || !target) break;
        s.history = rest;
        s.running = target.imageId;
        s.pinned = target;
        break;
      }
      case "stop-container": {
        if (s?.running) addContainer(s.running, "exited", index);
        break;
      }
      case "foreign": {
        const image = newImage([`foreign${op.repo}:v${seq + 1}`], false);
        if (op.used) addContainer(image.id, "running", undefined);
        break;
      }
      case "dangling": {
        newImage([], op.managed);
        break;
      }
      case "untag": {
        const tagged = [...images.values()].filter((image) => image.repoTags.length > 0);
        const image = tagged[op.pick % Math.max(1, tagged.length)];
        const tag = image?.repoTags[0];
        if (tag) untag(tag);
        break;
      }
      case "unrecorded": {
        newImage([`${repoOf(index)}:pulled${seq + 1}`], true);
        break;
      }
      case "extra-tag": {
        const tagged = [...images.values()].filter((image) => image.repoTags.length > 0);
        const image = tagged[op.pick % Math.max(1, tagged.length)];
        if (image) image.repoTags.push(`mirror/copy:t${op.pick}-${seq}`);
        break;
      }
      case "advance": {
        now += op.hours * HOUR;
        break;
      }
    }
  }

  services.forEach((s, index) => {
    if (s.running) addContainer(s.running, "running", index);
  });
  const updatedAt = new Date(now).toISOString();
  const statuses: ResourceStatus[] = services.flatMap((s, index): ResourceStatus[] => [
    {
      kind: "service",
      key: formatKey({ kind: "service", stack: "st", service: `s${index}` }),
      conditions: [],
      history: s.history,
      ...(s.pinned ? { pinned: { ...s.pinned, desiredSpecHash: "d" } } : {}),
      updatedAt,
    },
    {
      kind: "image",
      key: formatKey({ kind: "image", machine: "m", name: `s${index}` }),
      conditions: [],
      records: s.records,
      ...(s.build ? { build: { ...s.build, inputHash: "x", action: "build" as const, sizeBytes: 1 } } : {}),
      updatedAt,
    },
  ]);
  const desiredRefs = services.flatMap((s) => (s.build ? [s.build.tag] : []));
  return { images: [...images.values()], containers, statuses, desiredRefs, now };
}
