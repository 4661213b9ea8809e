// The stack planner, pure: desired services + one observation of the host + statuses → one
// action per service (unchanged, create, update, restart, …) and the containers to prune.
import { ServiceReason } from "../../status/reasons.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer, ObservedImage } from "../../platform/observed.ts";
import type { ServiceStatus, RollbackEntry } from "../../status/resource-status.ts";
import type { ImageHold } from "../images/image-hold.ts";
import type { EffectiveService } from "./effective-service.ts";

export type DesiredService = {
  name: string;
  selfHeal: boolean;
  effective: EffectiveService;
  status?: ServiceStatus;
  /** A problem around the image that leaves the service running (its registry does not answer). */
  note?: { reason: string; message: string };
};

/** The version a service should run: the desired one, or a held one (failed rollout, manual pin). */
export type Target = {
  specHash: string;
  config: Record<string, unknown>;
  /** Local image id; undefined when the image is not on this host. */
  imageId?: string;
  hold?: "failed" | "pinned";
  entry?: RollbackEntry;
};

export type Drift = "stopped" | "removed" | "replaced";

export type ServiceAction =
  | { kind: "unchanged"; target: Target; container: ObservedContainer; extras: ObservedContainer[] }
  | { kind: "starting"; target: Target; container: ObservedContainer }
  | { kind: "unhealthy"; target: Target; container: ObservedContainer }
  | { kind: "create"; target: Target }
  | { kind: "update"; target: Target; from?: ObservedContainer }
  | { kind: "restart"; target: Target; drift: Drift; container?: ObservedContainer }
  | { kind: "drifted"; target: Target; drift: Drift }
  | { kind: "blocked"; reason: string; message: string };

export type ServicePlan = { service: string; action: ServiceAction };

export type StackPlan = { services: ServicePlan[]; remove: ObservedContainer[] };

export type PlanInput = {
  stack: string;
  prune: boolean;
  services: readonly DesiredService[];
  /** Every container on the host, from the pass's one batched listing. */
  containers: readonly ObservedContainer[];
  images: readonly ObservedImage[];
  /** Image reference → why rollouts to it wait (enforced budget, vulnerability gate); running versions stay. */
  holds?: ReadonlyMap<string, ImageHold>;
};

export function containersOfStack(containers: readonly ObservedContainer[], stack: string): ObservedContainer[] {
  return containers.filter((c) => c.labels[LABELS.composeProject] === stack && c.labels[LABELS.composeOneoff] !== "True");
}

export function planStack(input: PlanInput): StackPlan {
  const ours = containersOfStack(input.containers, input.stack);
  const imageIds = imageIndex(input.images);
  const services = input.services.map((service) => ({
    service: service.name,
    action: planService(
      service,
      ours.filter((c) => c.labels[LABELS.composeService] === service.name),
      imageIds,
      input.holds,
    ),
  }));
  const desiredNames = new Set(input.services.map((s) => s.name));
  const remove = input.prune
    ? ours.filter((c) => c.labels[LABELS.managed] === "true" && !desiredNames.has(c.labels[LABELS.composeService] ?? ""))
    : [];
  return { services, remove };
}

function planService(
  service: DesiredService,
  containers: ObservedContainer[],
  imageIds: Map<string, string>,
  holds: ReadonlyMap<string, ImageHold> | undefined,
): ServiceAction {
  const target = chooseTarget(service, imageIds);
  if ("blocked" in target) return { kind: "blocked", reason: target.reason, message: target.message };
  const matching = containers.filter(
    (c) => c.labels[LABELS.specHash] === target.specHash && (target.imageId === undefined || c.imageId === target.imageId),
  );
  const running = matching.find((c) => c.state === "running" && c.health !== "unhealthy") ?? matching.find((c) => c.state === "running");
  if (running) {
    if (running.health === "starting") return { kind: "starting", target, container: running };
    if (running.health === "unhealthy") return { kind: "unhealthy", target, container: running };
    return { kind: "unchanged", target, container: running, extras: containers.filter((c) => !matching.includes(c)) };
  }
  const deployedBefore = service.status?.current?.specHash === target.specHash;
  const stopped = matching[0];
  if (stopped || deployedBefore) {
    const drift: Drift = stopped ? "stopped" : containers.length === 0 ? "removed" : "replaced";
    if (!service.selfHeal) return { kind: "drifted", target, drift };
    if (target.imageId === undefined) return imageMissing(target);
    return stopped ? { kind: "restart", target, drift, container: stopped } : { kind: "restart", target, drift };
  }
  const held = target.hold ? undefined : holds?.get(String(target.config["image"]));
  if (held) return { kind: "blocked", reason: held.reason, message: `rollout waits: ${held.message}` };
  if (target.imageId === undefined) return imageMissing(target);
  if (containers.length === 0) return { kind: "create", target };
  const from = containers.find((c) => c.state === "running") ?? containers[0];
  return from ? { kind: "update", target, from } : { kind: "update", target };
}

function chooseTarget(service: DesiredService, imageIds: Map<string, string>): Target | { blocked: true; reason: string; message: string } {
  const { effective, status } = service;
  if (!effective.ok) return { blocked: true, reason: effective.reason, message: effective.message };
  const pinned = status?.pinned;
  if (pinned && pinned.desiredSpecHash === effective.specHash) {
    const entry = [status.current, ...(status.history ?? [])].find(
      (e) => e && e.imageId === pinned.imageId && e.specHash === pinned.specHash,
    );
    if (entry) return heldTarget(entry, "pinned");
  }
  const failed = status?.failed;
  if (failed && failed.specHash === effective.specHash) {
    if (status.current) return heldTarget(status.current, "failed");
    return {
      blocked: true,
      reason: failed.reason,
      message: `not retried until the desired state changes or \`berth retry\`: ${failed.message}`,
    };
  }
  const imageId = imageIds.get(effective.image);
  return { specHash: effective.specHash, config: effective.config, ...(imageId ? { imageId } : {}) };
}

/** A held version runs from its image id, which its rollback tag keeps on the host. */
export function heldTarget(entry: RollbackEntry, hold: "failed" | "pinned"): Target {
  return { specHash: entry.specHash, config: { ...entry.config, image: entry.imageId }, imageId: entry.imageId, hold, entry };
}

function imageMissing(target: Target): ServiceAction {
  return { kind: "blocked", reason: ServiceReason.ImageMissing, message: `image ${String(target.config["image"])} is not on this host` };
}

function imageIndex(images: readonly ObservedImage[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const image of images) {
    index.set(image.id, image.id);
    for (const tag of image.repoTags) index.set(tag, image.id);
    for (const digest of image.repoDigests) index.set(digest, image.id);
  }
  return index;
}
