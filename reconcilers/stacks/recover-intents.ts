// Crash recovery: a swap whose intent record survived the agent is finished (the new container
// turned healthy) or reverted (it did not) before the stack is planned again.
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import type { SwapIntent } from "../../status/status-store.ts";
import type { HealthVerdict } from "./assess-health.ts";
import { readEffectiveCompose, writeEffectiveCompose } from "./effective-compose.ts";
import { heldTarget } from "./plan-stack.ts";
import { afterSwap, putIfChanged } from "./record-outcome.ts";
import { applyVerdict, serviceKey } from "./service-status.ts";
import { serviceContainers, upAndWait, waitOptions } from "./service-swap.ts";
import type { SwapOutcome } from "./service-swap.ts";
import type { StackContext } from "./stack-context.ts";
import { stopGraceSeconds } from "./stop-grace.ts";
import { waitUntilHealthy } from "./wait-healthy.ts";

/** Resolves every intent of this stack; returns how many were found (the caller re-observes). */
export async function recoverStackIntents(ctx: StackContext, stackName: string, stack: StackSpec | undefined): Promise<number> {
  const intents = (await ctx.store.intents()).filter((i) => i.stack === stackName);
  for (const intent of intents) {
    try {
      await recoverIntent(ctx, intent, stack);
    } finally {
      await ctx.store.clearIntent(intent.stack, intent.service);
    }
  }
  return intents.length;
}

async function recoverIntent(ctx: StackContext, intent: SwapIntent, stack: StackSpec | undefined): Promise<void> {
  const spec = stack?.services.find((s) => s.name === intent.service);
  if (!stack || !spec) return;
  const containers = await serviceContainers(ctx, stack.name, spec.name);
  const candidates = containers.filter((c) => c.labels[LABELS.specHash] === intent.toSpecHash);
  const to = candidates.find((c) => c.state === "running") ?? candidates.sort((a, b) => b.created - a.created)[0];
  const from = containers.find((c) => c.id === intent.fromContainerId);
  ctx.logger.warn(
    { stack: stack.name, service: spec.name, strategy: intent.strategy ?? "recreate", newContainer: to?.name ?? null },
    "interrupted swap found",
  );
  // The swap never created its container: nothing to finish; the plan redoes it from scratch.
  if (!to || (to.state === "created" && intent.strategy === "start-first")) {
    if (to) await ctx.engine.removeContainer(to.id, { force: true });
    return;
  }
  const key = serviceKey(stack.name, spec.name);
  const status = ctx.store.get(key) ?? { key, conditions: [], updatedAt: new Date(ctx.clock.now()).toISOString() };
  const current = status.current;
  const writeFile = async (config: Record<string, unknown>) => {
    const last = await readEffectiveCompose(ctx.store.dir, stack.name);
    const services = { ...((last?.model["services"] as Record<string, Record<string, unknown>> | undefined) ?? {}), [spec.name]: config };
    return writeEffectiveCompose(ctx.store.dir, stack, services, {
      prune: stack.prune,
      machine: ctx.machine,
      revision: ctx.state.revision,
      directory: stack.dir,
    });
  };
  const options = { ...waitOptions(ctx, spec), startedAt: intent.startedAt };
  const verdict: Exclude<HealthVerdict, { kind: "pending" }> =
    to.state === "created" ? { kind: "failed", reason: "Exited", message: "never started" } : await waitUntilHealthy(ctx, to.id, options);
  let outcome: SwapOutcome;
  if (verdict.kind === "healthy") {
    if (intent.strategy === "start-first") await finishStartFirst(ctx, spec.name, to, from, stopGraceSeconds(current?.config));
    const last = await readEffectiveCompose(ctx.store.dir, stack.name);
    const config = (last?.model["services"] as Record<string, Record<string, unknown>> | undefined)?.[spec.name] ?? {};
    outcome = {
      kind: "rolled-out",
      entry: {
        imageId: to.imageId,
        tag: "",
        revision: intent.toRevision,
        specHash: intent.toSpecHash,
        config,
        recordedAt: ctx.clock.now(),
      },
    };
  } else if (intent.strategy === "start-first" && from) {
    const attachments = await ctx.ops.networks(to.id);
    await ctx.engine.removeContainer(to.id, { force: true });
    if ((await ctx.ops.networks(from.id)).length === 0)
      for (const a of attachments) await ctx.ops.connect(from.id, { network: a.network, aliases: [spec.name, from.name] });
    if (current) await writeFile(heldTarget(current, "failed").config);
    outcome = { kind: "rolled-back", failure: verdict, restored: true };
  } else if (current) {
    if (intent.strategy === "start-first") await ctx.engine.removeContainer(to.id, { force: true });
    const back = await upAndWait(ctx, { stack, service: spec, writeFile }, heldTarget(current, "failed"), false);
    outcome = {
      kind: "rolled-back",
      failure: verdict,
      restored: back.kind === "healthy",
      ...(back.kind === "failed" ? { restoreMessage: back.message } : {}),
    };
  } else {
    outcome = { kind: "failed", failure: verdict };
  }
  ctx.logger.warn({ stack: stack.name, service: spec.name, outcome: outcome.kind }, "interrupted swap resolved");
  const revisionState = { ...ctx, state: { ...ctx.state, revision: intent.toRevision } };
  const result = await afterSwap(revisionState, stack.name, spec, status, outcome, intent.toSpecHash, undefined);
  await putIfChanged(
    ctx,
    applyVerdict(result.status, key, result.verdict, new Date(ctx.clock.now())),
    result.verdict.ready ? intent.toRevision : undefined,
  );
}

/** The cut-over of a normal start-first swap: the new container joins the service's name, the old one leaves it, and only then stops. */
async function finishStartFirst(
  ctx: StackContext,
  service: string,
  to: ObservedContainer,
  from: ObservedContainer | undefined,
  graceSeconds: number,
): Promise<void> {
  if (!from) return;
  const oldAttachments = await ctx.ops.networks(from.id);
  if ((await ctx.ops.networks(to.id)).length === 0) {
    for (const a of oldAttachments) await ctx.ops.connect(to.id, { network: a.network, aliases: [service, to.name] });
  }
  for (const a of oldAttachments) await ctx.ops.disconnect(from.id, a.network);
  await ctx.engine.stopContainer(from.id, graceSeconds);
  await ctx.engine.removeContainer(from.id, { force: true });
}
