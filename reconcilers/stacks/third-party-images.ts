// Carries out the plan of the images berth does not build for one stack: registry look-ups and
// pulls shared by the whole pass (one per distinct reference, side by side), then each service's
// pinned image recorded in its status before anything stops.
import type { StackSpec } from "../../desired-state/desired-state.ts";
import type { Logger } from "../../platform/logger.ts";
import type { ObservedImage } from "../../platform/observed.ts";
import { createDockerCredentials } from "../../platform/docker-credentials.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { PullProgress } from "../../platform/pull-progress.ts";
import { serviceResource } from "../../status/progress-events.ts";
import type { ReconcileEvents } from "../../status/reconcile-events.ts";
import type { PinnedImage } from "../../status/resource-status.ts";
import { createRegistryClient } from "../images/registry-client.ts";
import { pullImage } from "../images/pull-image.ts";
import type { DigestLookup, RegistryClient } from "../images/registry-client.ts";
import { decideImage, refsToLookUp, thirdPartyServices } from "./plan-third-party.ts";
import type { ImageDecision, PullResult } from "./plan-third-party.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { KeyOf } from "../../status/resource-key.ts";
import { emptyStatus, serviceKey } from "./service-status.ts";
import type { StackContext } from "./stack-context.ts";

/** One pass's registry look-ups and pulls; concurrent and repeated asks for a reference share one. */
export type ImageResolver = {
  lookUp(ref: string): Promise<DigestLookup>;
  /** `onProgress` hears the bytes of the pull in flight, whoever started it. */
  pull(ref: string, onProgress?: (progress: PullProgress) => void): Promise<PullResult>;
};

export function createImageResolver(deps: {
  machine: string;
  logger: Logger;
  events: ReconcileEvents;
  engine: Pick<DockerEngine, "pullImage">;
  /** The docker config of the engine selection's children (credentials); default: the process's. */
  dockerEnv?: NodeJS.ProcessEnv;
  registry?: Pick<RegistryClient, "resolveDigest">;
}): ImageResolver {
  const registry = deps.registry ?? createRegistryClient();
  const credentials = createDockerCredentials(deps.dockerEnv ? { env: deps.dockerEnv } : {});
  const lookups = new Map<string, Promise<DigestLookup>>();
  const pulls = new Map<string, { result: Promise<PullResult>; listeners: Set<(progress: PullProgress) => void> }>();
  async function pullOnce(ref: string, listeners: ReadonlySet<(progress: PullProgress) => void>): Promise<PullResult> {
    const started = performance.now();
    const result = await pullImage({ engine: deps.engine, credentials }, ref, {
      onProgress: (progress) => {
        for (const listener of listeners) listener(progress);
      },
    });
    deps.events.imagePulled(ref, deps.machine, result.ok ? "success" : "failure");
    if (result.ok) {
      deps.logger.info({ ref, ms: Math.round(performance.now() - started) }, "image pulled");
      return result;
    }
    const message = result.message.trim().split("\n").slice(-3).join(" ").trim() || "the pull failed";
    deps.logger.warn({ ref, error: message }, "image pull failed");
    return { ok: false, message };
  }
  return {
    lookUp(ref) {
      const known = lookups.get(ref) ?? registry.resolveDigest(ref);
      lookups.set(ref, known);
      return known;
    },
    pull(ref, onProgress) {
      const inFlight = pulls.get(ref);
      if (inFlight) {
        if (onProgress) inFlight.listeners.add(onProgress);
        return inFlight.result;
      }
      const listeners = new Set(onProgress ? [onProgress] : []);
      // A failed pull is forgotten once it settles, so a retry of the stack pulls again.
      const result = pullOnce(ref, listeners).then((outcome) => {
        if (!outcome.ok) pulls.delete(ref);
        return outcome;
      });
      pulls.set(ref, { result, listeners });
      return result;
    },
  };
}

/** One look-up per distinct reference, all side by side. */
export async function lookUpDigests(
  refs: readonly string[],
  lookUp: (ref: string) => Promise<DigestLookup>,
): Promise<Map<string, DigestLookup>> {
  return new Map(await Promise.all([...new Set(refs)].map(async (ref) => [ref, await lookUp(ref)] as const)));
}

/**
 * Every third-party service of the stack → its image decision, with the images list after any
 * pull. Services that run what they ran (pinned, present) cost no registry request.
 */
export async function resolveThirdPartyImages(
  ctx: StackContext,
  stack: StackSpec,
  images: readonly ObservedImage[],
): Promise<{ decisions: Map<string, ImageDecision>; images: readonly ObservedImage[] }> {
  const services = thirdPartyServices(stack, ctx.state, (key) => ctx.store.get(key));
  if (services.length === 0) return { decisions: new Map(), images };
  const resolver = ctx.imageResolver ?? createImageResolver(ctx);
  const refs = refsToLookUp(services);
  const lookups = await lookUpDigests(refs, (ref) => resolver.lookUp(ref));
  let decisions = services.map((s) => ({ service: s, decision: decideImage(s, images, lookups.get(s.ref)) }));
  let current = images;
  const pulls = [...new Set(decisions.flatMap(({ decision }) => (decision.kind === "pull" ? [decision.pull] : [])))];
  if (pulls.length > 0) {
    for (const { service, decision } of decisions) {
      if (decision.kind !== "pull") continue;
      ctx.progress?.({ type: "phase", resource: serviceResource(stack.name, service.name), phase: "pulling" });
      ctx.logger.info({ stack: stack.name, service: service.name, pull: decision.pull, reason: decision.reason }, "image pull planned");
    }
    // Every service of this stack waiting for a reference sees its bytes.
    const bytesTo = (ref: string) => (progress: PullProgress) => {
      for (const { service, decision } of decisions)
        if (decision.kind === "pull" && decision.pull === ref)
          ctx.progress?.({ type: "bytes", resource: serviceResource(stack.name, service.name), ...progress });
    };
    const pulled = new Map(
      await Promise.all(pulls.map(async (ref) => [ref, await resolver.pull(ref, ctx.progress ? bytesTo(ref) : undefined)] as const)),
    );
    current = await ctx.engine.listImages();
    decisions = services.map((s) => ({ service: s, decision: decideImage(s, current, lookups.get(s.ref), pulled) }));
  }
  for (const { service, decision } of decisions)
    if (decision.kind === "use") await recordPinned(ctx, serviceKey(stack.name, service.name), decision.image);
  return { decisions: new Map(decisions.map(({ service, decision }) => [service.name, decision])), images: current };
}

async function recordPinned(ctx: StackContext, key: KeyOf<"service">, image: PinnedImage): Promise<void> {
  const status = ctx.store.get(key);
  if (status?.image && JSON.stringify(status.image) === JSON.stringify(image)) return;
  const now = new Date(ctx.clock.now());
  ctx.logger.info({ key: formatKey(key), ref: image.ref, imageId: image.imageId, digest: image.digest }, "image pinned");
  await ctx.store.put({ ...(status ?? emptyStatus(key, now)), image, updatedAt: now.toISOString() });
}
