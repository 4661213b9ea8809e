// Pure planner of the images berth does not build (`image: redis:7`): per service, run the image
// it is pinned to, or pull (new or changed reference, a tracked tag that moved, a pinned image
// that is gone), or wait; with a PascalCase reason and a human message.
import { ServiceReason } from "../../status/reasons.ts";
import type { PullOutcome } from "../images/pull-image.ts";
import type { UpdatePolicy } from "../../desired-state/berth-file-schema.ts";
import type { DesiredState, ServiceSpec, StackSpec } from "../../desired-state/desired-state.ts";
import type { ObservedImage } from "../../platform/observed.ts";
import type { KeyOf } from "../../status/resource-key.ts";
import type { PinnedImage, ServiceStatus } from "../../status/resource-status.ts";
import { familiarDigest, familiarTag, parseReference } from "../../platform/image-reference.ts";
import type { DigestLookup } from "../images/registry-client.ts";
import { effectiveService } from "./effective-service.ts";
import type { EffectiveService } from "./effective-service.ts";
import { serviceKey } from "./service-status.ts";

export type ThirdPartyService = { name: string; ref: string; update: UpdatePolicy; record?: PinnedImage };

export type PullReason = "NotPresent" | "ReferenceChanged" | "TagMoved" | "PinnedImageMissing" | "Retry";

export type Note = { reason: string; message: string };

export type ImageDecision =
  | { kind: "use"; image: PinnedImage; runAs: string; degraded?: Note }
  | { kind: "pull"; pull: string; reason: PullReason; message: string }
  | { kind: "blocked"; reason: string; message: string };

/** Outcome of the pull of a reference this pass: ok, or the engine's or registry's message. */
export type PullResult = PullOutcome;

/** Whether a service runs an image berth does not build (not `build:`, not one of images/). */
export function isThirdParty(service: ServiceSpec, state: Pick<DesiredState, "images">): service is ServiceSpec & { image: string } {
  return !service.buildImage && service.image !== undefined && !state.images.some((image) => image.name === service.image);
}

export function thirdPartyServices(
  stack: StackSpec,
  state: Pick<DesiredState, "images">,
  statusOf: (key: KeyOf<"service">) => ServiceStatus | undefined,
): ThirdPartyService[] {
  return stack.services
    .filter((s) => isThirdParty(s, state))
    .map((s) => {
      const record = statusOf(serviceKey(stack.name, s.name))?.image;
      return { name: s.name, ref: s.image ?? "", update: s.update ?? "pinned", ...(record ? { record } : {}) };
    });
}

/** The registry is asked only about tracked tags that already run pinned to a recorded image. */
export function needsLookup(service: ThirdPartyService): boolean {
  return (
    service.update === "track" && service.record?.ref === service.ref && !service.record.refresh && !parseReference(service.ref).digest
  );
}

/** Distinct references to look up, for every service that needs it. */
export function refsToLookUp(services: readonly ThirdPartyService[]): string[] {
  return [...new Set(services.filter(needsLookup).map((s) => s.ref))];
}

export function decideImage(
  service: ThirdPartyService,
  images: readonly ObservedImage[],
  lookup: DigestLookup | undefined,
  pulled: ReadonlyMap<string, PullResult> = new Map(),
): ImageDecision {
  const ref = parseReference(service.ref);
  const use = (image: ObservedImage, degraded?: Note): ImageDecision => {
    const digest = image.repoDigests.find((d) => d.startsWith(`${ref.familiar}@`));
    const pinned: PinnedImage = { ref: service.ref, imageId: image.id, ...(digest ? { digest } : {}) };
    return { kind: "use", image: pinned, runAs: digest ?? image.id, ...(degraded ? { degraded } : {}) };
  };
  const pullFailed = (pull: string): string | undefined => {
    const result = pulled.get(pull);
    return result && !result.ok ? result.message : undefined;
  };
  const record = service.record?.ref === service.ref ? service.record : undefined;
  if (record && !record.refresh) {
    const local = images.find(
      (image) => image.id === record.imageId || (record.digest !== undefined && image.repoDigests.includes(record.digest)),
    );
    const running = record.digest ?? record.imageId;
    if (service.update === "track" && lookup?.kind === "failed" && local) {
      return use(local, { reason: lookup.reason, message: `${lookup.message}; ${service.ref} keeps running ${running}` });
    }
    if (service.update === "track" && lookup?.kind === "digest") {
      const current = images.find((image) => image.repoDigests.includes(familiarDigest(ref, lookup.digest)));
      if (current) return use(current);
      const failure = pullFailed(service.ref);
      if (failure !== undefined) {
        const message = `pull of ${service.ref} (now ${lookup.digest}) failed: ${failure}`;
        return local
          ? use(local, { reason: ServiceReason.PullFailed, message: `${message}; keeps running ${running}` })
          : { kind: "blocked", reason: ServiceReason.PullFailed, message };
      }
      return {
        kind: "pull",
        pull: service.ref,
        reason: ServiceReason.TagMoved,
        message: `${service.ref} moved from ${running} to ${lookup.digest}`,
      };
    }
    if (local) return use(local);
    if (record.digest) {
      const failure = pullFailed(record.digest);
      if (failure !== undefined)
        return {
          kind: "blocked",
          reason: ServiceReason.PullFailed,
          message: `pinned image ${record.digest} is not on this host and its pull failed: ${failure}`,
        };
      return {
        kind: "pull",
        pull: record.digest,
        reason: ServiceReason.PinnedImageMissing,
        message: `pinned image ${record.digest} is not on this host; pulling it again by digest`,
      };
    }
    return {
      kind: "blocked",
      reason: ServiceReason.ImageMissing,
      message: `${service.ref} is pinned to image ${record.imageId}, which is not on this host and has no registry digest to pull it by`,
    };
  }
  const failure = pullFailed(service.ref);
  if (failure !== undefined) {
    const kept = record && images.find((image) => image.id === record.imageId);
    if (kept)
      return use(kept, {
        reason: ServiceReason.PullFailed,
        message: `pull of ${service.ref} failed: ${failure}; keeps running ${record.digest ?? record.imageId}`,
      });
    return {
      kind: "blocked",
      reason: ServiceReason.PullFailed,
      message: `${service.ref} is not on this host and its pull failed: ${failure}`,
    };
  }
  if (!record?.refresh || pulled.has(service.ref)) {
    const local = images.find((image) =>
      ref.digest ? image.repoDigests.includes(familiarDigest(ref, ref.digest)) : image.repoTags.includes(familiarTag(ref) ?? ""),
    );
    if (local) return use(local);
    if (pulled.has(service.ref))
      return { kind: "blocked", reason: ServiceReason.ImageMissing, message: `${service.ref} was pulled but the engine does not list it` };
  }
  if (record?.refresh)
    return { kind: "pull", pull: service.ref, reason: ServiceReason.Retry, message: `\`berth retry\`: pulling ${service.ref} again` };
  if (service.record)
    return {
      kind: "pull",
      pull: service.ref,
      reason: ServiceReason.ReferenceChanged,
      message: `the image changed from ${service.record.ref} to ${service.ref}; pulling it`,
    };
  return { kind: "pull", pull: service.ref, reason: ServiceReason.NotPresent, message: `${service.ref} is not on this host; pulling it` };
}

/** The effective config of a service given its image decision (none: a berth-built image). */
export function effectiveWithImage(
  service: ServiceSpec,
  decision: ImageDecision | undefined,
  options: Parameters<typeof effectiveService>[1],
): EffectiveService {
  if (!decision) return effectiveService(service, options);
  if (decision.kind === "use") return effectiveService(service, { ...options, imageTags: { [service.image ?? ""]: decision.runAs } });
  return {
    ok: false,
    name: service.name,
    reason: decision.kind === "pull" ? ServiceReason.PullPending : decision.reason,
    message: decision.message,
  };
}
