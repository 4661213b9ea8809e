// Crash recovery: a swap whose intent record survived the agent resumes from its recorded phase
// through the same swap machine as a live swap, before the stack is planned again.
import type { StackSpec } from "../../desired-state/desired-state.ts";
import type { SwapIntent } from "../../status/status-store.ts";
import { isSwapIntent } from "../../status/swap-intent.ts";
import { readEffectiveCompose, writeEffectiveCompose } from "./effective-compose.ts";
import { afterSwap, putIfChanged } from "./record-outcome.ts";
import { applyVerdict, emptyStatus, serviceKey } from "./service-status.ts";
import { serviceContainers, swapSteps, withSpecHash } from "./service-swap.ts";
import type { StackContext } from "./stack-context.ts";
import { olderRecordLeftovers, outcomeOf, resumeIntended, runSwap } from "./swap-machine.ts";

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

async function recoverIntent(ctx: StackContext, record: SwapIntent, stack: StackSpec | undefined): Promise<void> {
  const spec = stack?.services.find((s) => s.name === record.service);
  if (!stack || !spec) return;
  // A record of an older berth (no phase): only its unconfirmed start-first container goes; the plan carries on from what runs.
  if (!isSwapIntent(record)) {
    const unconfirmed = olderRecordLeftovers(record, (await serviceContainers(ctx, stack.name, spec.name)).map(withSpecHash));
    for (const id of unconfirmed) await ctx.engine.removeContainer(id, { force: true });
    ctx.logger.warn(
      { stack: stack.name, service: spec.name, removed: unconfirmed.length },
      "interrupted swap of an older berth left to the plan",
    );
    return;
  }
  ctx.logger.warn({ stack: stack.name, service: spec.name, strategy: record.strategy, phase: record.phase }, "interrupted swap found");
  const key = serviceKey(stack.name, spec.name);
  const status = ctx.store.get(key) ?? emptyStatus(key, new Date(ctx.clock.now()));
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
  const steps = swapSteps(ctx, { stack, service: spec, ...(status.current ? { current: status.current } : {}), writeFile });
  let intent: SwapIntent = record;
  if (intent.phase === "Intended") {
    const resume = resumeIntended(intent, (await serviceContainers(ctx, stack.name, spec.name)).map(withSpecHash));
    for (const id of resume.kind === "discard" ? resume.remove : []) await ctx.engine.removeContainer(id, { force: true });
    // The swap never got its new container: nothing to finish; the plan redoes it from scratch.
    if (resume.kind === "discard") return;
    intent = resume.intent;
    await steps.persist(intent);
  }
  const outcome = outcomeOf(await runSwap(steps, intent), ctx.clock.now());
  ctx.logger.warn({ stack: stack.name, service: spec.name, outcome: outcome.kind }, "interrupted swap resolved");
  const revisionState = { ...ctx, state: { ...ctx.state, revision: record.revision } };
  const result = await afterSwap(revisionState, stack.name, spec, status, outcome, record.to.specHash, undefined);
  await putIfChanged(
    ctx,
    applyVerdict(result.status, result.verdict, new Date(ctx.clock.now())),
    result.verdict.ready ? record.revision : undefined,
  );
}
