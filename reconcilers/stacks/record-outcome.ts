// What a finished swap means for a service's status: history and tags after a rollout, the
// failed (revision, spec hash) after a rollback, and the conditions either way.
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import { ServiceReason } from "../../status/reasons.ts";
import type { ServiceStatus, StackStatus } from "../../status/resource-status.ts";
import { retagService } from "./retag-service.ts";
import { recordRollout, shortRevision, statusChanged } from "./service-status.ts";
import type { Verdict } from "./service-status.ts";
import type { SwapOutcome } from "./service-swap.ts";
import type { StackContext } from "./stack-context.ts";

export function heldVerdict(status: ServiceStatus, hold: "failed" | "pinned" | undefined): Verdict | undefined {
  if (hold === "failed" && status.failed) {
    const message = status.failed.message;
    return { ready: false, reason: ServiceReason.RolledBack, message, degraded: { reason: ServiceReason.RolledBack, message } };
  }
  if (hold === "pinned" && status.pinned) {
    const message =
      `pinned to revision ${shortRevision(status.pinned.revision)} by \`berth rollback\` until the desired state ` +
      `changes or \`berth retry\``;
    return { ready: true, reason: ServiceReason.Pinned, message, degraded: { reason: ServiceReason.Pinned, message } };
  }
  return undefined;
}

/** A digest or image id a service is pinned to (images berth does not build), for messages. */
function pinnedImage(image: unknown): string | undefined {
  return typeof image === "string" && (image.includes("@sha256:") || image.startsWith("sha256:")) ? image : undefined;
}

export async function afterSwap(
  ctx: StackContext,
  stack: string,
  spec: ServiceSpec,
  status: ServiceStatus,
  outcome: SwapOutcome,
  desiredSpecHash: string,
  hold: "failed" | "pinned" | undefined,
  image?: unknown,
): Promise<{ status: ServiceStatus; verdict: Verdict }> {
  const revision = ctx.state.revision;
  if (outcome.kind === "rolled-out") {
    ctx.events.rollout(stack, spec.name, "success");
    const recorded = recordRollout(status, outcome.entry, spec.rollout.history, stack, spec.name);
    const { failed: _failed, ...rest } = recorded.status;
    await retagService(ctx, stack, spec.name, rest, recorded.dropped);
    const verdict = heldVerdict(rest, hold) ?? {
      ready: true,
      reason: ServiceReason.RolledOut,
      message: `revision ${shortRevision(revision)} is healthy`,
    };
    return { status: hold === "pinned" ? rest : (({ pinned: _p, ...r }) => r)(rest), verdict };
  }
  const failure = outcome.failure;
  const failedImage = pinnedImage(image);
  const why =
    `revision ${shortRevision(revision)} (spec ` +
    `${desiredSpecHash.slice(0, 12)}${failedImage ? `, image ${failedImage}` : ""}) failed: ${failure.reason}: ${failure.message}`;
  if (outcome.kind === "rolled-back") {
    ctx.events.rollout(stack, spec.name, "rolled_back");
    const previousImage = pinnedImage(status.current?.config["image"]);
    const back = status.current
      ? `rolled back to revision ${shortRevision(status.current.revision)}${previousImage ? ` (image ${previousImage})` : ""}`
      : "rolled back";
    const message = outcome.restored
      ? `${why}; ${back}`
      : `${why}; ${back}, but the previous version is not healthy either: ${outcome.restoreMessage ?? "unknown"}`;
    if (hold === "pinned") {
      const { pinned: _p, ...rest } = status;
      const verdict: Verdict = {
        ready: false,
        reason: ServiceReason.PinFailed,
        message,
        degraded: { reason: ServiceReason.PinFailed, message },
      };
      return { status: rest, verdict };
    }
    return {
      status: { ...status, failed: { revision, specHash: desiredSpecHash, reason: failure.reason, message, at: ctx.clock.now() } },
      verdict: { ready: false, reason: ServiceReason.RolledBack, message, degraded: { reason: ServiceReason.RolledBack, message } },
    };
  }
  ctx.events.rollout(stack, spec.name, "failure");
  if (failure.reason === ServiceReason.ComposeFailed && !status.current) {
    // Nothing ran before and compose itself failed (the engine, a network, a name in use): not a
    // verdict on this revision, so it is not held; the agent retries it with backoff.
    return {
      status,
      verdict: {
        ready: false,
        reason: ServiceReason.ComposeFailed,
        message: why,
        degraded: { reason: ServiceReason.ComposeFailed, message: why },
        retry: true,
      },
    };
  }
  return {
    status: { ...status, failed: { revision, specHash: desiredSpecHash, reason: failure.reason, message: why, at: ctx.clock.now() } },
    verdict: { ready: false, reason: failure.reason, message: why, degraded: { reason: ServiceReason.RolloutFailed, message: why } },
  };
}

export async function putIfChanged(
  ctx: StackContext,
  next: ServiceStatus | StackStatus,
  appliedRevision: string | undefined,
): Promise<void> {
  // Revisions live on the stack record: a new commit must not rewrite every service's file.
  const withRevision =
    next.kind === "stack"
      ? { ...next, observedRevision: ctx.state.revision, ...(appliedRevision ? { lastAppliedRevision: appliedRevision } : {}) }
      : next;
  const previous = ctx.store.get(next.key);
  if (previous?.kind !== withRevision.kind || statusChanged(previous, withRevision)) await ctx.store.put(withRevision);
}
