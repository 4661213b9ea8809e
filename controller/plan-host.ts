// `plan(desired, observed)`: the whole host's plan as plain data, from the images planner's
// steps and the stack planner (both pure), with a reason for every line.
import { forMachine, profileOf } from "../desired-state/desired-state.ts";
import type { DesiredState, ImageSpec } from "../desired-state/desired-state.ts";
import { reductionBaseline } from "../desired-state/image-baseline.ts";
import { scanSettingsFor } from "../desired-state/scan-schema.ts";
import type { ScanSettings } from "../desired-state/scan-schema.ts";
import type { Problem } from "../desired-state/problem.ts";
import { summarizeProblems } from "../policy/policy-problems.ts";
import { LABELS } from "../platform/labels.ts";
import type { Observed } from "../platform/observed.ts";
import { budgetBreaches, enforcedBudgetHold } from "../reconcilers/images/build-facts.ts";
import { mergeHolds } from "../reconcilers/images/image-hold.ts";
import type { ImageHold } from "../reconcilers/images/image-hold.ts";
import type { ImagePlanStep } from "../reconcilers/images/plan-images.ts";
import type { DigestLookup } from "../reconcilers/images/registry-client.ts";
import { scanCacheKey } from "../reconcilers/images/scan-cache.ts";
import type { ScanCacheEntry } from "../reconcilers/images/scan-cache.ts";
import { judgeScan } from "../reconcilers/images/scan-verdict.ts";
import { planStack } from "../reconcilers/stacks/plan-stack.ts";
import type { ServiceAction } from "../reconcilers/stacks/plan-stack.ts";
import { decideImage, effectiveWithImage, thirdPartyServices } from "../reconcilers/stacks/plan-third-party.ts";
import { serviceKey } from "../reconcilers/stacks/service-status.ts";
import { ServiceReason } from "../status/reasons.ts";
import type { BuildFacts, ResourceStatus } from "../status/resource-status.ts";
import { statusIn } from "../status/status-store.ts";

export type HostPlanLine = { kind: "image" | "stack" | "service" | "remove"; name: string; action: string; reason: string; detail: string };

export type HostPlan = { machine: string; revision: string; lines: HostPlanLine[]; changes: number };

export type PlanHostInput = {
  state: DesiredState;
  machine: string;
  /** The images planner's steps, in dependency order. */
  imageSteps: readonly ImagePlanStep[];
  observed: Observed;
  statuses: ReadonlyMap<string, ResourceStatus>;
  /** Stacks the host policy refuses: shown as refused, not planned. */
  denied?: ReadonlyMap<string, Problem[]>;
  /** The registry's digest of each tracked tag (images berth does not build, `x-berth.update: track`). */
  lookups?: ReadonlyMap<string, DigestLookup>;
  /**
   * The state dir's scan cache (by `scanCacheKey`) and the time to judge it at: a reused image is held
   * as the vulnerability gate would hold it on its cached result. Without it no image has a result yet.
   */
  scans?: { cache: ReadonlyMap<string, ScanCacheEntry>; now: Date };
};

const SERVICE_REASON: Record<ServiceAction["kind"], string> = {
  unchanged: "spec hash matches, running, healthy",
  starting: "running the desired spec, health check still starting",
  unhealthy: "running the desired spec but unhealthy",
  create: "no container yet",
  update: "the effective config or image changed",
  restart: "drift: the container was changed by hand",
  drifted: "drift, but self-heal is off for this service",
  blocked: "cannot proceed",
};

export function planHost(input: PlanHostInput): HostPlan {
  const lines: HostPlanLine[] = [];
  for (const step of input.imageSteps) {
    lines.push({
      kind: "image",
      name: step.name,
      action: step.action,
      reason: step.reason,
      detail: `${step.tag}${step.message ? `: ${step.message}` : ""}`,
    });
  }
  const imageTags = Object.fromEntries(input.imageSteps.map((s) => [s.name, s.tag]));
  const waits = imageHolds(input);
  const profile = profileOf(input.state, input.machine);
  const stacks = forMachine(input.state, input.machine).stacks;
  // Images berth does not build: one `pull` line per reference, before the services that wait for it
  // (none for a stack the host policy refuses).
  const decisions = new Map(
    stacks
      .filter((stack) => !input.denied?.has(stack.name))
      .map((stack) => [
        stack.name,
        new Map(
          thirdPartyServices(stack, input.state, (key) => statusIn(input.statuses, key)).map((s) => [
            s.name,
            decideImage(s, input.observed.images, input.lookups?.get(s.ref)),
          ]),
        ),
      ]),
  );
  const pulls = new Set<string>();
  for (const decision of [...decisions.values()].flatMap((byService) => [...byService.values()])) {
    if (decision.kind !== "pull" || pulls.has(decision.pull)) continue;
    pulls.add(decision.pull);
    lines.push({ kind: "image", name: decision.pull, action: "pull", reason: decision.reason, detail: decision.message });
  }
  for (const stack of stacks) {
    const denied = input.denied?.get(stack.name);
    if (denied) {
      lines.push({ kind: "stack", name: stack.name, action: "refused", reason: "PolicyDenied", detail: summarizeProblems(denied, 1) });
      continue;
    }
    const services = stack.services.map((service) => {
      const status = statusIn(input.statuses, serviceKey(stack.name, service.name));
      return {
        name: service.name,
        selfHeal: service.selfHeal,
        effective: effectiveWithImage(service, decisions.get(stack.name)?.get(service.name), {
          machine: input.machine,
          profile,
          imageTags,
        }),
        ...(status ? { status } : {}),
      };
    });
    const plan = planStack({
      stack: stack.name,
      prune: stack.prune,
      services,
      containers: input.observed.containers,
      images: input.observed.images,
      holds: waits.holds,
    });
    for (const { service, action } of plan.services) {
      const spec = stack.services.find((s) => s.name === service);
      const decision = decisions.get(stack.name)?.get(service);
      // An image still to pull (third-party), build, pull, or tag (the same input hash is present under another name).
      const pendingImage =
        decision?.kind === "pull"
          ? { action: "pull", tag: decision.pull }
          : spec?.buildImage
            ? input.imageSteps.find(
                (s) =>
                  s.name === spec.buildImage &&
                  (s.action === "build" || s.action === "pull" || (s.action === "reuse" && s.needsTag === true)),
              )
            : undefined;
      if (action.kind === "blocked" && (action.reason === "ImageMissing" || action.reason === "PullPending") && pendingImage) {
        const hasContainer = input.observed.containers.some(
          (c) => c.labels[LABELS.composeProject] === stack.name && c.labels[LABELS.composeService] === service,
        );
        const after = pendingImage.action === "build" ? "built" : pendingImage.action === "pull" ? "pulled" : "tagged";
        const judged = spec?.buildImage ? waits.judgedLater.get(spec.buildImage) : undefined;
        const held = waits.holds.get(pendingImage.tag);
        const notes = [judged, held && `then waits: ${held.message}`, waits.scanPending.get(pendingImage.tag)];
        lines.push({
          kind: "service",
          name: `${stack.name}/${service}`,
          action: hasContainer ? "update" : "create",
          reason: `after its image is ${after}`,
          detail: [pendingImage.tag, ...notes.filter((n) => n !== undefined)].join("; "),
        });
        continue;
      }
      const detail =
        action.kind === "blocked"
          ? `${action.reason}: ${action.message}`
          : action.kind === "restart" || action.kind === "drifted"
            ? `${action.drift}`
            : action.target.hold
              ? `held on ${action.target.hold === "failed" ? "the previous version after a failed rollout" : "a pinned version"}`
              : action.kind === "create" || action.kind === "update"
                ? (waits.scanPending.get(String(action.target.config["image"])) ?? "")
                : "";
      lines.push({
        kind: "service",
        name: `${stack.name}/${service}`,
        action: action.kind,
        reason: action.kind === "blocked" ? action.reason : SERVICE_REASON[action.kind],
        detail,
      });
    }
    for (const container of plan.remove) {
      lines.push({
        kind: "remove",
        name: `${stack.name}/${container.name}`,
        action: "remove",
        reason: "left the desired state (stack has prune: true)",
        detail: container.image,
      });
    }
  }
  const quiet = new Set(["reuse", "unchanged", "starting"]);
  return { machine: input.machine, revision: input.state.revision, lines, changes: lines.filter((l) => !quiet.has(l.action)).length };
}

type ImageHolds = {
  /** Image tag → why rollouts to it wait. */
  holds: Map<string, ImageHold>;
  /** Image name → what a new build or pull of it is judged by once it exists. */
  judgedLater: Map<string, string>;
  /** Image tag → the note that a rollout to it waits for the vulnerability scan (no cached result). */
  scanPending: Map<string, string>;
};

/**
 * The rollouts the images reconciler would hold, judged as it judges them: an image kept as it is
 * (reuse) by the facts recorded when it was built or pulled (`budgets.enforce`) and by the scan
 * cache's result for its id (the vulnerability gate; plan never runs a scanner). A new build or pull
 * is judged once it exists (`judgedLater`); a reused image with no result in the cache is scanned first.
 */
function imageHolds(input: PlanHostInput): ImageHolds {
  const holds = new Map<string, ImageHold>();
  const judgedLater = new Map<string, string>();
  const scanPending = new Map<string, string>();
  const specs = new Map<string, ImageSpec>(input.state.images.map((i) => [i.name, i]));
  for (const step of input.imageSteps) {
    const spec = specs.get(step.name);
    if (!spec) continue;
    const settings = scanSettingsFor(input.state.scan, spec.scan);
    const gates = settings !== undefined && settings.enforce && settings.failOn.length > 0;
    if (step.action === "build" || step.action === "pull") {
      const later = [
        spec.budgets.enforce === true ? `then waits if it breaches an enforced budget (${describeBudgets(spec)})` : undefined,
        gates ? `then waits if the vulnerability scan finds ${settings.failOn.join(", ")}` : undefined,
      ].filter((note) => note !== undefined);
      if (later.length > 0) judgedLater.set(step.name, later.join("; "));
      continue;
    }
    if (step.action !== "reuse") continue;
    const budget = spec.budgets.enforce === true ? budgetHold(input, step, spec) : undefined;
    const scan = settings && step.localImageId ? cachedScanHold(input, step, settings, step.localImageId) : undefined;
    const hold = mergeHolds([budget, scan?.hold]);
    if (hold) holds.set(step.tag, hold);
    if (gates && (!scan || scan.stale))
      scanPending.set(step.tag, `then waits for the vulnerability scan (no recent result cached; failOn: ${settings.failOn.join(", ")})`);
  }
  return { holds, judgedLater, scanPending };
}

function budgetHold(input: PlanHostInput, step: ImagePlanStep, spec: ImageSpec): ImageHold | undefined {
  const facts = recordedFacts(input, step);
  if (!facts) return undefined;
  const baseline =
    spec.budgets.minReduction === undefined ? undefined : reductionBaseline(spec.baseline, facts.previousSizeBytes, input.observed.images);
  const breaches = budgetBreaches(facts, spec.budgets, baseline).map((b) => b.message);
  return breaches.length > 0 ? { reason: ServiceReason.BudgetEnforced, message: enforcedBudgetHold(step.name, breaches) } : undefined;
}

/**
 * The gate's hold on a reused image by its cached result (undefined when none is cached). A result
 * older than maxAge is `stale`: the agent scans again first. The scanner's database version is not
 * asked (that would run the scanner), so a result from an older database still counts here.
 */
function cachedScanHold(
  input: PlanHostInput,
  step: ImagePlanStep,
  settings: ScanSettings,
  imageId: string,
): { hold?: ImageHold; stale: boolean } | undefined {
  const entry = input.scans?.cache.get(scanCacheKey(settings.command, imageId));
  if (!entry || !input.scans) return undefined;
  const stale = input.scans.now.getTime() - entry.scannedAt >= settings.maxAgeSeconds * 1000;
  if (stale) return { stale };
  const verdict = judgeScan(step.name, { ok: true, findings: entry.findings }, settings, input.scans.now);
  return verdict.hold ? { hold: verdict.hold, stale } : { stale };
}

/** The facts the reconciler re-judges a reused image by: those recorded for this input hash, else the local image's size. */
function recordedFacts(input: PlanHostInput, step: ImagePlanStep): BuildFacts | undefined {
  const previous = statusIn(input.statuses, { kind: "image", machine: input.machine, name: step.name })?.build;
  if (previous?.inputHash === step.inputHash && previous.tag === step.tag) return previous;
  const local = input.observed.images.find((i) => i.id === step.localImageId);
  if (!local) return undefined;
  const previousSizeBytes = previous && previous.inputHash !== step.inputHash ? previous.sizeBytes : previous?.previousSizeBytes;
  return {
    inputHash: step.inputHash,
    tag: step.tag,
    imageId: local.id,
    action: "reuse",
    sizeBytes: local.sizeBytes,
    ...(previousSizeBytes !== undefined ? { previousSizeBytes } : {}),
    recordedAt: 0,
  };
}

function describeBudgets(spec: ImageSpec): string {
  const { enforce: _enforce, ...limits } = spec.budgets;
  return Object.entries(limits)
    .map(([name, limit]) => `${name} ${limit}`)
    .join(", ");
}

export function formatHostPlan(plan: HostPlan): string {
  const rows = plan.lines.map((l) => [l.kind, l.name, l.action, l.reason, l.detail]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length), 5));
  const out = [
    `plan for machine ${plan.machine} at ${plan.revision}: ` +
      `${plan.changes === 0 ? "nothing to do" : `${plan.changes} change${plan.changes === 1 ? "" : "s"}`}`,
    "",
  ];
  for (const r of rows)
    out.push(
      r
        .map((cell, i) => (i < 4 ? cell.padEnd(widths[i] ?? 0) : cell))
        .join("  ")
        .trimEnd(),
    );
  return `${out.join("\n")}\n`;
}
