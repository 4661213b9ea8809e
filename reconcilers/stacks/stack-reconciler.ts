// The stacks reconciler: one pass over one stack (plan from one observation, then swaps in
// depends_on order), and a pass over every stack of this machine with the pruning rules.
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { forMachine } from "../../desired-state/desired-state.ts";
import type { DesiredState, ServiceSpec, StackSpec } from "../../desired-state/desired-state.ts";
import { formatProblem } from "../../desired-state/problem.ts";
import type { Problem } from "../../desired-state/problem.ts";
import { summarizeProblems } from "../../policy/policy-problems.ts";
import type { Logger } from "../../platform/logger.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { ComposeProject } from "../../platform/compose-cli.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import { serviceResource } from "../../status/progress-events.ts";
import { ServiceReason, StackReason } from "../../status/reasons.ts";
import { parseKeyOf } from "../../status/resource-key.ts";
import type { ServiceStatus } from "../../status/resource-status.ts";
import { admitService } from "./admit-service.ts";
import { dependencyWaves, unreadyHealthyDependency } from "./dependency-order.ts";
import { readEffectiveCompose, writeEffectiveCompose } from "./effective-compose.ts";
import type { StackMeta } from "./effective-compose.ts";
import { planStack } from "./plan-stack.ts";
import { effectiveWithImage } from "./plan-third-party.ts";
import type { DesiredService, ServiceAction, Target } from "./plan-stack.ts";
import { recoverStackIntents } from "./recover-intents.ts";
import { afterSwap, heldVerdict, putIfChanged } from "./record-outcome.ts";
import { applyVerdict, emptyStatus, recordRollout, serviceKey, stackKey } from "./service-status.ts";
import type { Verdict } from "./service-status.ts";
import { createServices, swapService, upAndWait } from "./service-swap.ts";
import type { SwapOutcome } from "./service-swap.ts";
import type { ImageHold } from "../images/image-hold.ts";
import type { StackContext } from "./stack-context.ts";
import { pruneStackSources, resolveStackSources, stackDataDir } from "./stack-sources.ts";
import { stopGraceSeconds } from "./stop-grace.ts";
import { retagService } from "./retag-service.ts";
import { createImageResolver, resolveThirdPartyImages } from "./third-party-images.ts";
import { defaultScanGate, scanThirdPartyImages } from "./third-party-scan.ts";
import { scanRetryDelayMs } from "../images/scan-retry.ts";
import { getCondition } from "../../status/conditions.ts";

export type ServiceResult = {
  service: string;
  action: ServiceAction["kind"] | "removed";
  ready: boolean;
  reason: string;
  message: string;
  retry?: boolean;
  /** Look at the service again after this long without a change (it waits for VRAM to free up). */
  retryAfterMs?: number;
};

export type StackResult = {
  stack: string;
  ready: boolean;
  services: ServiceResult[];
  changed: number;
  durationMs: number;
  message?: string;
  /** The soonest a waiting service asks to be looked at again (see ServiceResult.retryAfterMs). */
  requeueAfterMs?: number;
};

const ACTING: ReadonlySet<ServiceAction["kind"]> = new Set(["create", "update", "restart"]);

/**
 * One reconcile of one stack, holding the host lock shared. The caller runs one reconcile of a stack
 * at a time (the agent's queue never runs a key twice at once; `berth apply` goes stack by stack).
 */
export function reconcileStack(stackName: string, ctx: StackContext): Promise<StackResult> {
  return ctx.lock.shared(`reconcile stack ${stackName}`, () => reconcileStackNow(stackName, ctx));
}

/**
 * The stacks a pass reconciles: every desired stack of this machine, plus stacks that left the
 * desired state (removed only with prune). When the desired state has no stacks at all and
 * allowEmpty is off, nothing is reconciled and the stacks that would go are `refused`.
 */
export async function stacksToReconcile(input: {
  state: DesiredState;
  machine: string;
  store: Pick<StatusStore, "dir">;
  logger: Logger;
}): Promise<{ names: string[]; refused: string[] }> {
  const desired = forMachine(input.state, input.machine).stacks.map((s) => s.name);
  const gone = (await knownStacks(input.store.dir)).filter((name) => !desired.includes(name));
  if (desired.length === 0 && gone.length > 0 && !input.state.allowEmpty) {
    input.logger.warn({ stacks: gone }, "empty desired state refused");
    return { names: [], refused: gone };
  }
  return { names: [...desired, ...gone], refused: [] };
}

/** One pass over every stack (see stacksToReconcile), sharing one observation; for `berth apply`. */
export async function reconcileStacks(ctx: StackContext): Promise<StackResult[]> {
  const { names, refused } = await stacksToReconcile(ctx);
  const desired = forMachine(ctx.state, ctx.machine).stacks.map((s) => s.name);
  const observed = ctx.observed ?? (await ctx.engine.observe());
  const imageResolver = ctx.imageResolver ?? createImageResolver(ctx);
  const scanGate = ctx.scanGate ?? defaultScanGate(ctx);
  const results: StackResult[] = [];
  for (const name of names)
    results.push(
      await reconcileStack(name, {
        ...ctx,
        imageResolver,
        scanGate,
        observed: desired.includes(name) ? observed : await ctx.engine.observe(),
      }),
    );
  for (const name of refused)
    results.push({
      stack: name,
      ready: false,
      services: [],
      changed: 0,
      durationMs: 0,
      message: "the desired state has no stacks; refusing to remove everything without allowEmpty: true",
    });
  return results;
}

/** Exact image reference → why rollouts to it wait, from the images reconciler's holds. */
function heldImages(ctx: StackContext): Map<string, ImageHold> {
  return new Map(
    Object.entries(ctx.imageHolds ?? {}).flatMap(([name, why]) => {
      const tag = ctx.imageTags[name];
      return tag ? [[tag, why] as const] : [];
    }),
  );
}

async function knownStacks(stateDir: string): Promise<string[]> {
  return (await readdir(join(stateDir, "stacks")).catch(() => [] as string[])).sort();
}

async function reconcileStackNow(stackName: string, ctx: StackContext): Promise<StackResult> {
  const started = ctx.clock.now();
  const found = forMachine(ctx.state, ctx.machine).stacks.find((s) => s.name === stackName);
  const denied = found ? ctx.denied?.get(stackName) : undefined;
  if (denied) return refuseStack(ctx, stackName, denied, started);
  const stack = found && (await resolveStackSources(found, { root: ctx.state.root, stateDir: ctx.store.dir, materialize: true }));
  const recovered = await recoverStackIntents(ctx, stackName, stack);
  if (!stack) return removeDeletedStack(ctx, stackName, started);
  const observed = recovered > 0 || !ctx.observed ? await ctx.engine.observe() : ctx.observed;
  // Images berth does not build are looked up, pulled and pinned before anything stops.
  const thirdParty = await resolveThirdPartyImages(ctx, stack, observed.images);
  // …and scanned by the vulnerability gate before any rollout to them.
  const scans = await scanThirdPartyImages(ctx, stack, thirdParty.decisions);
  const desired: DesiredService[] = stack.services.map((s) => {
    const status = ctx.store.get(serviceKey(stack.name, s.name));
    const decision = thirdParty.decisions.get(s.name);
    const note = decision?.kind === "use" ? decision.degraded : undefined;
    return {
      name: s.name,
      selfHeal: s.selfHeal,
      effective: effectiveWithImage(s, decision, { machine: ctx.machine, profile: ctx.profile, imageTags: ctx.imageTags }),
      ...(status ? { status } : {}),
      ...(note ? { note } : {}),
    };
  });
  const plan = planStack({
    stack: stack.name,
    prune: stack.prune,
    services: desired,
    containers: observed.containers,
    images: thirdParty.images,
    holds: new Map([...heldImages(ctx), ...scans.holds]),
  });
  const actions = new Map(plan.services.map((p) => [p.service, p.action]));
  const fileConfigs: Record<string, Record<string, unknown>> = {};
  for (const d of desired) {
    const action = actions.get(d.name);
    const config =
      action && "target" in action
        ? action.target.config
        : (d.status?.current?.config ?? (d.effective.ok ? d.effective.config : undefined));
    if (config) fileConfigs[d.name] = config;
  }
  const meta = { prune: stack.prune, machine: ctx.machine, revision: ctx.state.revision, directory: stack.dir };
  const writeFor =
    (service: string) =>
    (config: Record<string, unknown>): Promise<ComposeProject> => {
      fileConfigs[service] = config;
      return writeEffectiveCompose(ctx.store.dir, stack, fileConfigs, meta);
    };
  const results = new Map<string, ServiceResult>();
  let changed = 0;
  for (const wave of dependencyWaves(stack.services)) {
    holdForDependencies(stack, wave, actions, results);
    const created = await createWave(ctx, stack, wave, actions, fileConfigs, meta);
    for (const name of wave) {
      const spec = stack.services.find((s) => s.name === name);
      const action = actions.get(name);
      if (!spec || !action) continue;
      if (ACTING.has(action.kind)) changed += 1;
      results.set(
        name,
        await carryOut(
          ctx,
          stack,
          spec,
          action,
          writeFor(name),
          desired.find((d) => d.name === name),
          created.get(name),
        ),
      );
    }
  }
  for (const container of plan.remove) {
    changed += 1;
    const service = container.labels[LABELS.composeService] ?? container.name;
    await removeManaged(ctx, container);
    await ctx.store.remove(serviceKey(stack.name, service));
    results.set(service, {
      service,
      action: "removed",
      ready: true,
      reason: ServiceReason.Pruned,
      message: "left the desired state; removed (prune: true)",
    });
    ctx.progress?.({
      type: "done",
      resource: serviceResource(stack.name, service),
      ok: true,
      action: "removed",
      reason: ServiceReason.Pruned,
      message: "left the desired state; removed (prune: true)",
    });
  }
  await pruneUnusedSources(ctx, stack);
  const services = [...results.values()];
  const ready = services.every((s) => s.ready);
  const notReady = services.filter((s) => !s.ready);
  const message = ready ? `${services.length} service(s) ready` : notReady.map((s) => `${s.service}: ${s.reason}`).join("; ");
  await putIfChanged(
    ctx,
    applyVerdict(
      ctx.store.get(stackKey(stack.name)) ?? emptyStatus(stackKey(stack.name), new Date(ctx.clock.now())),
      ready ? { ready, reason: StackReason.ServicesReady, message } : { ready, reason: StackReason.ServicesNotReady, message },
      new Date(ctx.clock.now()),
    ),
    ready ? ctx.state.revision : undefined,
  );
  const durationMs = ctx.clock.now() - started;
  ctx.events.reconciled("stacks", ready ? (changed > 0 ? "success" : "noop") : "failure", durationMs / 1000);
  const retries = [
    ...services.flatMap((s) => (s.retryAfterMs === undefined ? [] : [s.retryAfterMs])),
    ...scanRetries(ctx, stack.name, scans.scanFailed),
  ];
  return {
    stack: stack.name,
    ready,
    services,
    changed,
    durationMs,
    ...(retries.length > 0 ? { requeueAfterMs: Math.min(...retries) } : {}),
  };
}

/** A third-party image whose scan failed is scanned again with backoff (30 s doubling to 5 min since its service began waiting). */
function scanRetries(ctx: StackContext, stack: string, services: readonly string[]): number[] {
  const now = ctx.clock.now();
  return services.flatMap((service) => {
    const waiting = getCondition(ctx.store.get(serviceKey(stack, service))?.conditions ?? [], "Waiting");
    return waiting?.status === "True" && waiting.reason === ServiceReason.ScanFailed
      ? [scanRetryDelayMs(Date.parse(waiting.lastTransitionTime), now)]
      : [];
  });
}

/** Copies of tracked files that neither the desired configs, the effective file nor any rollback config of the stack names go. */
async function pruneUnusedSources(ctx: StackContext, stack: StackSpec): Promise<void> {
  const last = await readEffectiveCompose(ctx.store.dir, stack.name);
  const records = ctx.store.all().filter((s) => parseKeyOf("service", s.key)?.stack === stack.name);
  const removed = await pruneStackSources(
    ctx.store.dir,
    stack.name,
    JSON.stringify([last?.model, records, stack.services.map((s) => s.config)]),
  );
  if (removed.length > 0) ctx.logger.info({ stack: stack.name, removed: removed.length }, "unused source copies removed");
}

/** A service that would start while a `service_healthy` dependency is not Ready waits (compose's order, health-gated). */
function holdForDependencies(
  stack: StackSpec,
  wave: readonly string[],
  actions: Map<string, ServiceAction>,
  results: ReadonlyMap<string, ServiceResult>,
): void {
  const ready = new Map([...results].map(([name, result]) => [name, result.ready]));
  for (const name of wave) {
    const action = actions.get(name);
    const spec = stack.services.find((s) => s.name === name);
    if (!spec || (action?.kind !== "create" && action?.kind !== "restart")) continue;
    const dependency = unreadyHealthyDependency(spec.config, ready);
    if (dependency)
      actions.set(name, {
        kind: "blocked",
        reason: ServiceReason.DependencyNotReady,
        message: `waits for ${dependency} to be healthy (depends_on condition: service_healthy)`,
      });
  }
}

/** New services of one wave start together: one compose call, health waits in parallel. */
async function createWave(
  ctx: StackContext,
  stack: StackSpec,
  wave: readonly string[],
  actions: ReadonlyMap<string, ServiceAction>,
  fileConfigs: Record<string, Record<string, unknown>>,
  meta: StackMeta,
): Promise<Map<string, SwapOutcome>> {
  const jobs: { service: ServiceSpec; target: Target }[] = [];
  for (const name of wave) {
    const action = actions.get(name);
    const service = stack.services.find((s) => s.name === name);
    if (!service || action?.kind !== "create" || action.target.hold) continue;
    const admission = await admitService(ctx, service);
    if (admission.ok) jobs.push({ service, target: action.target });
  }
  if (jobs.length === 0) return new Map();
  const project = await writeEffectiveCompose(ctx.store.dir, stack, fileConfigs, meta);
  return createServices(ctx, stack, project, jobs);
}

async function carryOut(
  ctx: StackContext,
  stack: StackSpec,
  spec: ServiceSpec,
  action: ServiceAction,
  writeFile: (config: Record<string, unknown>) => Promise<ComposeProject>,
  desired: DesiredService | undefined,
  created: SwapOutcome | undefined,
): Promise<ServiceResult> {
  const key = serviceKey(stack.name, spec.name);
  let status: ServiceStatus = ctx.store.get(key) ?? emptyStatus(key, new Date(ctx.clock.now()));
  const revision = ctx.state.revision;
  let verdict: Verdict;
  let retryAfterMs: number | undefined;
  switch (action.kind) {
    case "unchanged": {
      if (!status.current || status.current.specHash !== action.target.specHash || status.current.imageId !== action.container.imageId) {
        // Adopt what runs (fresh state dir, or a held version): it is the version to roll back to.
        status = recordRollout(
          status,
          {
            imageId: action.container.imageId,
            tag: "",
            revision: status.current?.specHash === action.target.specHash ? status.current.revision : revision,
            specHash: action.target.specHash,
            config: action.target.entry?.config ?? action.target.config,
            recordedAt: ctx.clock.now(),
          },
          spec.rollout.history,
          stack.name,
          spec.name,
        ).status;
        await retagService(ctx, stack.name, spec.name, status, []);
      }
      for (const extra of action.extras) if (extra.labels[LABELS.managed] === "true") await removeManaged(ctx, extra);
      verdict = heldVerdict(status, action.target.hold) ?? {
        ready: true,
        reason: ServiceReason.Healthy,
        message:
          action.container.health === "healthy"
            ? `${action.container.name} is running and healthy`
            : `${action.container.name} is running (no healthcheck)`,
      };
      break;
    }
    case "starting":
      verdict = heldVerdict(status, action.target.hold) ?? {
        ready: false,
        reason: ServiceReason.Starting,
        message: `${action.container.name} is starting (health: starting)`,
        reconciling: true,
      };
      break;
    case "unhealthy":
      verdict = {
        ready: false,
        reason: ServiceReason.Unhealthy,
        message: `${action.container.name} runs the desired version but its health check fails`,
        degraded: { reason: ServiceReason.Unhealthy, message: `${action.container.name} is unhealthy` },
      };
      break;
    case "drifted":
      verdict = {
        ready: false,
        reason: ServiceReason.Drifted,
        message: `container ${action.drift} by hand; selfHeal is off, left as is`,
        degraded: { reason: ServiceReason.Drifted, message: `container ${action.drift} by hand` },
      };
      break;
    case "blocked":
      // A pull that failed is tried again with the agent's backoff (the registry may come back).
      verdict =
        status.failed && action.reason === status.failed.reason
          ? {
              ready: false,
              reason: ServiceReason.RolloutFailed,
              message: action.message,
              degraded: { reason: ServiceReason.RolloutFailed, message: action.message },
            }
          : {
              ready: false,
              reason: action.reason,
              message: action.message,
              waiting: true,
              ...(action.reason === ServiceReason.PullFailed ? { retry: true } : {}),
            };
      break;
    case "restart": {
      ctx.progress?.({ type: "phase", resource: serviceResource(stack.name, spec.name), phase: "restoring" });
      ctx.logger.info({ stack: stack.name, service: spec.name, drift: action.drift }, "service drift restored");
      const back = await upAndWait(ctx, { stack, service: spec, writeFile }, action.target, false);
      verdict =
        back.kind === "healthy"
          ? (heldVerdict(status, action.target.hold) ?? {
              ready: true,
              reason: ServiceReason.Restored,
              message: `container ${action.drift} by hand; restored`,
            })
          : {
              ready: false,
              reason: ServiceReason.RestoreFailed,
              message: back.message,
              degraded: { reason: ServiceReason.RestoreFailed, message: back.message },
              retry: true,
            };
      break;
    }
    case "create":
    case "update": {
      // Held versions ran here before, and a wave's new services were admitted in createWave.
      const admission = action.target.hold || created ? { ok: true as const } : await admitService(ctx, spec);
      if (!admission.ok) {
        verdict = { ready: false, reason: admission.reason, message: admission.message, waiting: true };
        retryAfterMs = admission.retryAfterMs;
        break;
      }
      const outcome =
        created ??
        (await swapService(ctx, {
          stack,
          service: spec,
          target: action.target,
          revision,
          ...(action.kind === "update" && action.from ? { from: action.from } : {}),
          ...(status.current ? { current: status.current } : {}),
          writeFile,
        }));
      ({ status, verdict } = await afterSwap(
        ctx,
        stack.name,
        spec,
        status,
        outcome,
        desired?.effective.ok ? desired.effective.specHash : action.target.specHash,
        action.target.hold,
        action.target.config["image"],
      ));
      break;
    }
  }
  // The service runs, but something around its image needs attention (registry unreachable).
  if (desired?.note && !verdict.degraded) verdict = { ...verdict, degraded: desired.note };
  const next = applyVerdict(status, verdict, new Date(ctx.clock.now()));
  await putIfChanged(ctx, next, verdict.ready ? revision : undefined);
  ctx.progress?.({
    type: "done",
    resource: serviceResource(stack.name, spec.name),
    ok: verdict.ready,
    action: action.kind,
    reason: verdict.reason,
    message: verdict.message,
  });
  return {
    service: spec.name,
    action: action.kind,
    ready: verdict.ready,
    reason: verdict.reason,
    message: verdict.message,
    ...(!verdict.ready && verdict.retry ? { retry: true } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** A stack the host policy refuses: nothing of it is touched (not even an interrupted swap); its record says why. */
async function refuseStack(ctx: StackContext, stackName: string, problems: readonly Problem[], started: number): Promise<StackResult> {
  const message = `refused by the host policy, left as it runs: ${summarizeProblems(problems)}`;
  const key = stackKey(stackName);
  await putIfChanged(
    ctx,
    applyVerdict(
      ctx.store.get(key) ?? emptyStatus(key, new Date(ctx.clock.now())),
      { ready: false, reason: StackReason.PolicyDenied, message, stalled: true },
      new Date(ctx.clock.now()),
    ),
    undefined,
  );
  ctx.logger.warn(
    { stack: stackName, violations: problems.length, first: problems[0] ? formatProblem(problems[0]) : "" },
    "stack refused by the host policy",
  );
  const durationMs = ctx.clock.now() - started;
  ctx.events.reconciled("stacks", "failure", durationMs / 1000);
  return { stack: stackName, ready: false, services: [], changed: 0, durationMs, message };
}

async function removeManaged(ctx: StackContext, container: ObservedContainer): Promise<void> {
  if (container.labels[LABELS.managed] !== "true") return;
  ctx.logger.info({ container: container.name }, "managed container removed");
  const status = ctx.store.get(serviceKey(container.labels[LABELS.composeProject] ?? "", container.labels[LABELS.composeService] ?? ""));
  await ctx.engine.stopContainer(container.id, stopGraceSeconds(status?.current?.config));
  await ctx.engine.removeContainer(container.id, { force: true });
}

async function removeDeletedStack(ctx: StackContext, stackName: string, started: number): Promise<StackResult> {
  const last = await readEffectiveCompose(ctx.store.dir, stackName);
  const key = stackKey(stackName);
  // The data folder is never removed by berth: a human deletes it (docs/stacks.md).
  const dataDir = stackDataDir(ctx.store.dir, stackName);
  const dataNote = (await stat(dataDir).then(
    (s) => s.isDirectory(),
    () => false,
  ))
    ? `; its data folder ${dataDir} is kept`
    : "";
  if (!last?.meta?.prune) {
    await putIfChanged(
      ctx,
      applyVerdict(
        ctx.store.get(key) ?? emptyStatus(key, new Date(ctx.clock.now())),
        { ready: true, reason: StackReason.Retained, message: `left the desired state; prune is off, its containers are kept${dataNote}` },
        new Date(ctx.clock.now()),
      ),
      undefined,
    );
    return {
      stack: stackName,
      ready: true,
      services: [],
      changed: 0,
      durationMs: ctx.clock.now() - started,
      message: `retained (prune is off)${dataNote}`,
    };
  }
  const project = await ctx.engine.listContainers({ label: [`${LABELS.composeProject}=${stackName}`] });
  const containers = project.filter((c) => c.labels[LABELS.managed] === "true" && c.labels[LABELS.stack] === stackName);
  for (const c of containers) await removeManaged(ctx, c);
  // A container berth does not manage keeps the project, and with it the networks, as they are.
  if (containers.length === project.length) await removeStackNetworks(ctx, stackName, last.project);
  for (const status of ctx.store.all()) if (parseKeyOf("service", status.key)?.stack === stackName) await ctx.store.remove(status.key);
  await ctx.store.remove(key);
  await rm(join(ctx.store.dir, "stacks", stackName), { recursive: true, force: true });
  ctx.logger.info({ stack: stackName, containers: containers.length, ...(dataNote ? { dataDir } : {}) }, "stack pruned");
  return {
    stack: stackName,
    ready: true,
    services: [],
    changed: containers.length,
    durationMs: ctx.clock.now() - started,
    message: `removed ${containers.length} container(s) (prune: true)${dataNote}`,
  };
}

/** The project's networks go with its last container, through `compose down` on the last effective file. */
async function removeStackNetworks(ctx: StackContext, stackName: string, project: ComposeProject): Promise<void> {
  try {
    await ctx.compose.run(project, ["down", "--remove-orphans"]);
  } catch (error) {
    ctx.logger.warn({ stack: stackName, err: error instanceof Error ? error.message : String(error) }, "stack networks not removed");
  }
}
