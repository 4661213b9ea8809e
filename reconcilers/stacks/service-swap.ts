// Carries out one service swap (recreate or start-first) with a health gate, a monitor window
// and an automatic rollback to the version that ran before; writes an intent record first.
import type { ServiceSpec, StackSpec } from "../../desired-state/desired-state.ts";
import type { ComposeProject } from "../../platform/compose-cli.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import { CommandError } from "../../platform/run-command.ts";
import { serviceResource } from "../../status/progress-events.ts";
import type { ProgressPhase } from "../../status/progress-events.ts";
import type { RollbackEntry } from "../../status/resource-status.ts";
import type { HealthVerdict } from "./assess-health.ts";
import type { NetworkAttachment } from "./container-ops.ts";
import { heldTarget } from "./plan-stack.ts";
import type { Target } from "./plan-stack.ts";
import type { StackContext } from "./stack-context.ts";
import { stopGraceSeconds } from "./stop-grace.ts";
import { monitorHealth, waitUntilHealthy } from "./wait-healthy.ts";
import type { WaitOptions } from "./wait-healthy.ts";

export type Failure = { reason: string; message: string };

export type SwapOutcome =
  | { kind: "rolled-out"; entry: RollbackEntry }
  | { kind: "rolled-back"; failure: Failure; restored: boolean; restoreMessage?: string }
  | { kind: "failed"; failure: Failure };

export type SwapJob = {
  stack: StackSpec;
  service: ServiceSpec;
  target: Target;
  revision: string;
  /** The container running now, and the version it runs (status.current), if any. */
  from?: ObservedContainer;
  current?: RollbackEntry;
  /** Writes the stack's effective compose file with this service's config and returns the project. */
  writeFile: (config: Record<string, unknown>) => Promise<ComposeProject>;
};

export type Strategy = "recreate" | "start-first";

export function swapStrategy(service: ServiceSpec): Strategy {
  const order = (service.config["deploy"] as { update_config?: { order?: string } } | undefined)?.update_config?.order;
  const wanted = service.rollout.strategy === "start-first" || order === "start-first" ? "start-first" : "recreate";
  return wanted === "start-first" && !service.hasFixedHostPort && !service.containerName ? "start-first" : "recreate";
}

export function waitOptions(ctx: StackContext, service: ServiceSpec): WaitOptions {
  return {
    timeoutMs: service.rollout.healthTimeoutSeconds * 1000,
    runSeconds: ctx.noHealthcheckRunSeconds ?? 3,
    pollMs: ctx.pollMs ?? 500,
  };
}

export async function swapService(ctx: StackContext, job: SwapJob): Promise<SwapOutcome> {
  const strategy = job.from?.state === "running" ? swapStrategy(job.service) : "recreate";
  const image = String(job.target.config["image"]);
  // The plan found the image in the pass's observation; otherwise ask the engine before stopping anything.
  if (!job.target.imageId && !(await ctx.engine.inspectImage(image)))
    return { kind: "failed", failure: { reason: "ImageMissing", message: `image ${image} is not on this host` } };
  await ctx.store.putIntent({
    stack: job.stack.name,
    service: job.service.name,
    ...(job.current ? { fromImageId: job.current.imageId, fromConfig: job.current.config } : {}),
    toSpecHash: job.target.specHash,
    toRevision: job.revision,
    startedAt: ctx.clock.now(),
    strategy,
    ...(job.from ? { fromContainerId: job.from.id } : {}),
  });
  ctx.logger.info(
    { stack: job.stack.name, service: job.service.name, strategy, specHash: job.target.specHash.slice(0, 12) },
    "service swap started",
  );
  phase(ctx, job, "starting");
  try {
    return strategy === "start-first" && job.from ? await startFirst(ctx, job, job.from) : await recreate(ctx, job);
  } finally {
    await ctx.store.clearIntent(job.stack.name, job.service.name);
  }
}

async function recreate(ctx: StackContext, job: SwapJob): Promise<SwapOutcome> {
  const verdict = await upAndWait(ctx, job, job.target, true);
  if (verdict.kind === "healthy") return rolledOut(ctx, job, verdict.containerId);
  return rollBack(ctx, job, verdict);
}

/** compose up one service with this config, find its container, wait for health (+ monitor). */
export async function upAndWait(
  ctx: StackContext,
  job: Pick<SwapJob, "stack" | "service" | "writeFile">,
  target: Target,
  monitor: boolean,
  startedAt?: number,
): Promise<{ kind: "healthy"; containerId: string } | { kind: "failed"; reason: string; message: string }> {
  const project = await job.writeFile(target.config);
  try {
    await ctx.compose.run(project, ["up", "-d", "--no-deps", "--no-build", "--pull", "never", job.service.name]);
  } catch (error) {
    return { kind: "failed", reason: "ComposeFailed", message: commandMessage(error) };
  }
  const container = await findContainer(ctx, job.stack.name, job.service.name, target.specHash);
  if (!container)
    return { kind: "failed", reason: "Removed", message: "compose reported success but no container carries the new spec hash" };
  const options = { ...waitOptions(ctx, job.service), ...(startedAt ? { startedAt } : {}) };
  const verdict = await waitFor(ctx, job, container.id, options, monitor ? job.service.rollout.monitorSeconds * 1000 : 0);
  return verdict.kind === "healthy" ? { kind: "healthy", containerId: container.id } : verdict;
}

async function waitFor(
  ctx: StackContext,
  job: Pick<SwapJob, "stack" | "service">,
  id: string,
  options: WaitOptions,
  monitorMs: number,
): Promise<Exclude<HealthVerdict, { kind: "pending" }>> {
  phase(ctx, job, "waiting for health", (options.startedAt ?? ctx.clock.now()) + options.timeoutMs);
  const first = await waitUntilHealthy(ctx, id, options);
  if (first.kind !== "healthy" || monitorMs <= 0) return first;
  phase(ctx, job, "monitoring", ctx.clock.now() + monitorMs);
  return monitorHealth(ctx, id, monitorMs, options);
}

/** Tells a person watching what one service is doing now (`until`: the deadline of a wait). */
function phase(ctx: StackContext, job: Pick<SwapJob, "stack" | "service">, now: ProgressPhase, until?: number): void {
  ctx.progress?.({
    type: "phase",
    resource: serviceResource(job.stack.name, job.service.name),
    phase: now,
    ...(until !== undefined ? { until } : {}),
  });
}

/** Starts services that never ran, in one compose call, and waits for all of them at once. */
export async function createServices(
  ctx: StackContext,
  stack: StackSpec,
  project: ComposeProject,
  jobs: readonly { service: ServiceSpec; target: Target }[],
): Promise<Map<string, SwapOutcome>> {
  const names = jobs.map((j) => j.service.name);
  for (const { service } of jobs) phase(ctx, { stack, service }, "starting");
  const results = new Map<string, SwapOutcome>();
  try {
    await ctx.compose.run(project, ["up", "-d", "--no-deps", "--no-build", "--pull", "never", ...names]);
  } catch (error) {
    for (const name of names) results.set(name, { kind: "failed", failure: { reason: "ComposeFailed", message: commandMessage(error) } });
    return results;
  }
  await Promise.all(
    jobs.map(async ({ service, target }) => {
      const container = await findContainer(ctx, stack.name, service.name, target.specHash);
      const verdict = container
        ? await waitFor(ctx, { stack, service }, container.id, waitOptions(ctx, service), service.rollout.monitorSeconds * 1000)
        : { kind: "failed" as const, reason: "Removed", message: "no container carries the new spec hash" };
      if (verdict.kind === "healthy" && container) {
        results.set(
          service.name,
          await rolledOut(
            ctx,
            { stack, service, target, revision: ctx.state.revision, writeFile: () => Promise.resolve(project) },
            container.id,
          ),
        );
      } else if (verdict.kind === "failed") {
        ctx.logger.warn(
          { stack: stack.name, service: service.name, reason: verdict.reason, detail: verdict.message },
          "service create failed",
        );
        results.set(service.name, { kind: "failed", failure: { reason: verdict.reason, message: verdict.message } });
      }
    }),
  );
  return results;
}

async function startFirst(ctx: StackContext, job: SwapJob, from: ObservedContainer): Promise<SwapOutcome> {
  const { stack, service } = job;
  const project = await job.writeFile(job.target.config);
  const siblings = await serviceContainers(ctx, stack.name, service.name);
  try {
    await ctx.compose.run(project, [
      "create",
      "--no-recreate",
      "--no-build",
      "--pull",
      "never",
      "--scale",
      `${service.name}=${siblings.length + 1}`,
      service.name,
    ]);
  } catch (error) {
    return rolledBackInPlace(ctx, job, { reason: "ComposeFailed", message: commandMessage(error) });
  }
  const fresh = (await serviceContainers(ctx, stack.name, service.name)).find(
    (c) => c.labels[LABELS.specHash] === job.target.specHash && c.state === "created",
  );
  if (!fresh) return rolledBackInPlace(ctx, job, { reason: "Removed", message: "compose created no container with the new spec hash" });
  // Keep the new container out of the service's DNS name until it is healthy.
  const attachments = await ctx.ops.networks(fresh.id);
  for (const a of attachments) await ctx.ops.disconnect(fresh.id, a.network);
  const options = waitOptions(ctx, service);
  let verdict: Exclude<HealthVerdict, { kind: "pending" }>;
  try {
    await ctx.ops.start(fresh.id);
    phase(ctx, job, "waiting for health", ctx.clock.now() + options.timeoutMs);
    verdict = await waitUntilHealthy(ctx, fresh.id, options);
  } catch (error) {
    verdict = { kind: "failed", reason: "Exited", message: commandMessage(error) };
  }
  if (verdict.kind !== "healthy") {
    await ctx.engine.removeContainer(fresh.id, { force: true });
    return rolledBackInPlace(ctx, job, verdict);
  }
  const oldAttachments = await ctx.ops.networks(from.id);
  for (const a of attachments) await ctx.ops.connect(fresh.id, a);
  for (const a of oldAttachments) await ctx.ops.disconnect(from.id, a.network);
  phase(ctx, job, "monitoring", ctx.clock.now() + service.rollout.monitorSeconds * 1000);
  const watched = await monitorHealth(ctx, fresh.id, service.rollout.monitorSeconds * 1000, options);
  if (watched.kind !== "healthy") {
    for (const a of oldAttachments) await ctx.ops.connect(from.id, a);
    for (const a of attachments) await ctx.ops.disconnect(fresh.id, a.network);
    await ctx.engine.removeContainer(fresh.id, { force: true });
    return rolledBackInPlace(ctx, job, watched);
  }
  await ctx.engine.stopContainer(from.id, stopGraceSeconds(job.current?.config ?? job.target.config));
  await ctx.engine.removeContainer(from.id, { force: true });
  return rolledOut(ctx, job, fresh.id);
}

/** Start-first failures never stopped the old container: it is still serving. */
async function rolledBackInPlace(ctx: StackContext, job: SwapJob, failure: Failure): Promise<SwapOutcome> {
  if (job.current) await job.writeFile(heldTarget(job.current, "failed").config);
  report(ctx, job, failure);
  return { kind: "rolled-back", failure: { reason: failure.reason, message: failure.message }, restored: true };
}

async function rollBack(ctx: StackContext, job: SwapJob, failure: Failure): Promise<SwapOutcome> {
  report(ctx, job, failure);
  if (!job.current) return { kind: "failed", failure: { reason: failure.reason, message: failure.message } };
  phase(ctx, job, "rolling back");
  const back = await upAndWait(ctx, job, heldTarget(job.current, "failed"), false);
  const restored = back.kind === "healthy";
  ctx.logger.warn({ stack: job.stack.name, service: job.service.name, restored }, "service rolled back");
  return {
    kind: "rolled-back",
    failure: { reason: failure.reason, message: failure.message },
    restored,
    ...(back.kind === "failed" ? { restoreMessage: back.message } : {}),
  };
}

function report(ctx: StackContext, job: SwapJob, failure: Failure): void {
  ctx.logger.warn(
    { stack: job.stack.name, service: job.service.name, reason: failure.reason, detail: failure.message },
    "service swap failed",
  );
  ctx.events.rollback(job.stack.name, job.service.name, failure.reason);
}

async function rolledOut(ctx: StackContext, job: SwapJob, containerId: string): Promise<SwapOutcome> {
  const details = await ctx.engine.inspectContainer(containerId);
  ctx.logger.info({ stack: job.stack.name, service: job.service.name }, "service swap succeeded");
  return {
    kind: "rolled-out",
    entry: {
      imageId: details?.imageId ?? job.target.imageId ?? "",
      tag: "",
      revision: job.target.entry?.revision ?? job.revision,
      specHash: job.target.specHash,
      config: job.target.entry?.config ?? job.target.config,
      recordedAt: ctx.clock.now(),
    },
  };
}

export async function serviceContainers(ctx: StackContext, stack: string, service: string): Promise<ObservedContainer[]> {
  return ctx.engine.listContainers({ label: [`${LABELS.composeProject}=${stack}`, `${LABELS.composeService}=${service}`] });
}

export async function findContainer(
  ctx: StackContext,
  stack: string,
  service: string,
  hash: string,
): Promise<ObservedContainer | undefined> {
  const all = (await serviceContainers(ctx, stack, service)).filter((c) => c.labels[LABELS.specHash] === hash);
  return all.find((c) => c.state === "running") ?? all.sort((a, b) => b.created - a.created)[0];
}

export function attachmentsWithAliases(attachments: readonly NetworkAttachment[], aliases: readonly string[]): NetworkAttachment[] {
  return attachments.map((a) => ({
    network: a.network,
    aliases: [...new Set([...aliases, ...a.aliases.filter((x) => !/^[0-9a-f]{12}$/.test(x))])],
  }));
}

function commandMessage(error: unknown): string {
  if (error instanceof CommandError) return (error.result.stderr.trim().split("\n").slice(-3).join(" ") || error.message).slice(0, 400);
  return error instanceof Error ? error.message : String(error);
}
