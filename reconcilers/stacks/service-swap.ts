// Carries out one service swap (recreate or start-first) through the swap state machine: the
// engine side of each step (health gate, monitor window, cut-over, automatic rollback).
import type { ServiceSpec, StackSpec } from "../../desired-state/desired-state.ts";
import type { ComposeProject } from "../../platform/compose-cli.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import { CommandError } from "../../platform/run-command.ts";
import { serviceResource } from "../../status/progress-events.ts";
import type { ProgressPhase } from "../../status/progress-events.ts";
import type { RollbackEntry } from "../../status/resource-status.ts";
import type { StartFirstIntent, SwapIntent } from "../../status/swap-intent.ts";
import type { HealthVerdict } from "./assess-health.ts";
import { heldTarget } from "./plan-stack.ts";
import type { Target } from "./plan-stack.ts";
import type { StackContext } from "./stack-context.ts";
import { stopGraceSeconds } from "./stop-grace.ts";
import { outcomeOf, pickContainer, runSwap } from "./swap-machine.ts";
import type { Failure, ServiceContainer, SwapOutcome, SwapSteps } from "./swap-machine.ts";
import { verifyContainer } from "./verify-service.ts";
import { monitorHealth, waitUntilHealthy } from "./wait-healthy.ts";
import type { MonitorWatch, WaitOptions } from "./wait-healthy.ts";
import { vramGuard } from "./vram-guard.ts";

export type { Failure, SwapOutcome };

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

/** The loader derives the strategy (x-berth, else `deploy.update_config.order`); a fixed port or container_name rules it out. */
export function swapStrategy(service: ServiceSpec): Strategy {
  return service.rollout.strategy === "start-first" && !service.hasFixedHostPort && !service.containerName ? "start-first" : "recreate";
}

export function waitOptions(ctx: StackContext, service: ServiceSpec): WaitOptions {
  return {
    timeoutMs: service.rollout.healthTimeoutSeconds * 1000,
    runSeconds: ctx.noHealthcheckRunSeconds ?? 3,
    pollMs: ctx.pollMs ?? 500,
    ...withWatch(vramGuard(ctx, service)),
  };
}

function withWatch(watch: MonitorWatch | undefined): { watch?: MonitorWatch } {
  return watch ? { watch } : {};
}

export async function swapService(ctx: StackContext, job: SwapJob): Promise<SwapOutcome> {
  const from = job.from?.state === "running" ? job.from : undefined;
  const image = String(job.target.config["image"]);
  // The plan found the image in the pass's observation; otherwise ask the engine before stopping anything.
  if (!job.target.imageId && !(await ctx.engine.inspectImage(image)))
    return { kind: "failed", failure: { reason: "ImageMissing", message: `image ${image} is not on this host` } };
  const base = {
    stack: job.stack.name,
    service: job.service.name,
    revision: job.revision,
    startedAt: ctx.clock.now(),
    to: { specHash: job.target.specHash, config: job.target.config },
    record: { revision: job.target.entry?.revision ?? job.revision, config: job.target.entry?.config ?? job.target.config },
  };
  const intent: SwapIntent =
    from && swapStrategy(job.service) === "start-first"
      ? { ...base, strategy: "start-first", from: from.id, phase: "Intended" }
      : { ...base, strategy: "recreate", phase: "Intended" };
  await ctx.store.putIntent(intent);
  ctx.logger.info(
    { stack: job.stack.name, service: job.service.name, strategy: intent.strategy, specHash: job.target.specHash.slice(0, 12) },
    "service swap started",
  );
  try {
    const end = await runSwap(swapSteps(ctx, job), intent);
    if (end.phase === "Done") ctx.logger.info({ stack: job.stack.name, service: job.service.name }, "service swap succeeded");
    return outcomeOf(end, ctx.clock.now());
  } finally {
    await ctx.store.clearIntent(job.stack.name, job.service.name);
  }
}

/** The service a swap changes: what ran before (status.current) and how to write the effective file. */
export type SwapSubject = Pick<SwapJob, "stack" | "service" | "current" | "writeFile">;

/** The engine side of each step of the swap machine, for one service; live swaps and crash recovery share it. */
export function swapSteps(ctx: StackContext, job: SwapSubject): SwapSteps {
  const { stack, service } = job;
  return {
    persist: (intent) => ctx.store.putIntent(intent),
    async create(intent) {
      phase(ctx, job, "starting");
      const project = await job.writeFile(intent.to.config);
      const siblings = intent.strategy === "start-first" ? await serviceContainers(ctx, stack.name, service.name) : [];
      const args =
        intent.strategy === "start-first"
          ? ["create", "--no-recreate", "--no-build", "--pull", "never", "--scale", `${service.name}=${siblings.length + 1}`]
          : ["up", "-d", "--no-deps", "--no-build", "--pull", "never"];
      try {
        await ctx.compose.run(project, [...args, service.name]);
      } catch (error) {
        return { kind: "failed", reason: "ComposeFailed", message: commandMessage(error) };
      }
      const createdAt = ctx.clock.now();
      if (intent.strategy === "recreate") {
        const container = await findContainer(ctx, stack.name, service.name, intent.to.specHash);
        if (!container)
          return { kind: "failed", reason: "Removed", message: "compose reported success but no container carries the new spec hash" };
        return { kind: "created", container: container.id, createdAt, attachments: [], fromAttachments: [] };
      }
      const fresh = (await serviceContainers(ctx, stack.name, service.name)).find(
        (c) => c.labels[LABELS.specHash] === intent.to.specHash && c.state === "created",
      );
      if (!fresh) return { kind: "failed", reason: "Removed", message: "compose created no container with the new spec hash" };
      // Keep the new container out of the service's DNS name until it is healthy and cut over.
      const attachments = await ctx.ops.networks(fresh.id);
      for (const a of attachments) await ctx.ops.disconnect(fresh.id, a.network);
      return { kind: "created", container: fresh.id, createdAt, attachments, fromAttachments: await ctx.ops.networks(intent.from) };
    },
    async awaitHealthy(intent) {
      try {
        // The wait began when the container started: at creation for recreate, here for start-first (then since creation).
        let startedAt = intent.createdAt;
        if ((await ctx.engine.inspectContainer(intent.container))?.state === "created") {
          if (intent.strategy === "recreate") return { kind: "failed", reason: "Exited", message: "never started" };
          await ctx.ops.start(intent.container);
          startedAt = ctx.clock.now();
        }
        return await waitFor(ctx, job, intent.container, { ...waitOptions(ctx, service), startedAt }, 0);
      } catch (error) {
        return { kind: "failed", reason: "Exited", message: commandMessage(error) };
      }
    },
    async cutOver(intent) {
      if (intent.strategy === "recreate") return;
      for (const a of intent.attachments) await ctx.ops.connect(intent.container, a);
      for (const a of intent.fromAttachments) await ctx.ops.disconnect(intent.from, a.network);
    },
    async monitor(intent) {
      const monitorMs = service.rollout.monitorSeconds * 1000;
      if (monitorMs <= 0) return { kind: "healthy" };
      phase(ctx, job, "monitoring", ctx.clock.now() + monitorMs);
      return monitorHealth(ctx, intent.container, monitorMs, waitOptions(ctx, service));
    },
    async retire(intent) {
      if (intent.strategy === "start-first") {
        await ctx.engine.stopContainer(intent.from, stopGraceSeconds(job.current?.config ?? intent.to.config));
        await ctx.engine.removeContainer(intent.from, { force: true });
      }
      return (await ctx.engine.inspectContainer(intent.container))?.imageId ?? "";
    },
    async rollBack(intent, failure) {
      ctx.logger.warn(
        { stack: stack.name, service: service.name, phase: intent.phase, reason: failure.reason, detail: failure.message },
        "service swap failed",
      );
      ctx.events.rollback(stack.name, service.name, failure.reason);
      if (intent.strategy === "start-first" && (await ctx.engine.inspectContainer(intent.from))) {
        // Start-first never stopped the old container: it serves again once the new one is gone.
        if (intent.phase !== "Intended") await withdraw(ctx, intent);
        if (job.current) await job.writeFile(heldTarget(job.current, "failed").config);
        return { kind: "restored" };
      }
      if (intent.strategy === "start-first" && intent.phase !== "Intended")
        await ctx.engine.removeContainer(intent.container, { force: true });
      if (!job.current) return { kind: "nothing" };
      phase(ctx, job, "rolling back");
      const back = await upAndWait(ctx, job, heldTarget(job.current, "failed"), false);
      ctx.logger.warn({ stack: stack.name, service: service.name, restored: back.kind === "healthy" }, "service rolled back");
      return back.kind === "healthy" ? { kind: "restored" } : { kind: "not-restored", message: back.message };
    },
  };
}

/** Takes a start-first swap's new container away; after the cut-over the old one first takes the service's networks back. */
async function withdraw(ctx: StackContext, intent: Extract<StartFirstIntent, { phase: "Created" | "Healthy" | "CutOver" }>): Promise<void> {
  if (intent.phase !== "Created") {
    for (const a of intent.fromAttachments) await ctx.ops.connect(intent.from, a);
    for (const a of intent.attachments) await ctx.ops.disconnect(intent.container, a.network);
  }
  await ctx.engine.removeContainer(intent.container, { force: true });
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
  const verdict = await waitFor(ctx, job, container.id, options, monitor ? job.service.rollout.monitorSeconds * 1000 : 0, monitor);
  return verdict.kind === "healthy" ? { kind: "healthy", containerId: container.id } : verdict;
}

async function waitFor(
  ctx: StackContext,
  job: Pick<SwapJob, "stack" | "service">,
  id: string,
  options: WaitOptions,
  monitorMs: number,
  verify = true,
): Promise<Exclude<HealthVerdict, { kind: "pending" }>> {
  phase(ctx, job, "waiting for health", (options.startedAt ?? ctx.clock.now()) + options.timeoutMs);
  const healthy = await waitUntilHealthy(ctx, id, options);
  const first = healthy.kind === "healthy" && verify ? await verifyContainer(ctx, job.service, id) : healthy;
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

/** A container with its spec hash label, as the swap machine's pure parts see it. */
export function withSpecHash(container: ObservedContainer): ObservedContainer & ServiceContainer {
  return { ...container, specHash: container.labels[LABELS.specHash] };
}

export async function findContainer(
  ctx: StackContext,
  stack: string,
  service: string,
  hash: string,
): Promise<ObservedContainer | undefined> {
  return pickContainer((await serviceContainers(ctx, stack, service)).map(withSpecHash), hash);
}

function commandMessage(error: unknown): string {
  if (error instanceof CommandError) return (error.result.stderr.trim().split("\n").slice(-3).join(" ") || error.message).slice(0, 400);
  return error instanceof Error ? error.message : String(error);
}
