// Carries out the images plan for one machine: reuse, pull, or build (then push) every image in
// hierarchy order, and records conditions and build facts in status.
import type { DesiredState, ImageSpec } from "../../desired-state/desired-state.ts";
import { reductionBaseline } from "../../desired-state/image-baseline.ts";
import { scanSettingsFor } from "../../desired-state/scan-schema.ts";
import type { ReductionBaseline } from "../../desired-state/image-baseline.ts";
import { createDockerCredentials } from "../../platform/docker-credentials.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import { silentLogger } from "../../platform/logger.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Observed, ObservedImage } from "../../platform/observed.ts";
import { runCommand } from "../../platform/run-command.ts";
import { createVulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import type { VulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import { removeCondition, setCondition } from "../../status/conditions.ts";
import type { Condition } from "../../status/conditions.ts";
import { imageResource } from "../../status/progress-events.ts";
import type { ProgressEvent, ProgressSink } from "../../status/progress-events.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import type { ReconcileEvents } from "../../status/reconcile-events.ts";
import type { SharedHostLock } from "../../status/shared-host-lock.ts";
import { ImageReason, ServiceReason } from "../../status/reasons.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { KeyOf } from "../../status/resource-key.ts";
import type { BuildFacts, ExceededBudget, ImageStatus } from "../../status/resource-status.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { budgetBreaches, enforcedBudgetHold, sharedBytesWithParent } from "./build-facts.ts";
import type { StepCounts } from "./buildkit-progress.ts";
import { createFileHashCache } from "./hash-context.ts";
import { pullImage } from "./pull-image.ts";
import type { FileHashCache } from "./hash-context.ts";
import { createBuildxBuilder } from "./image-builder.ts";
import type { BuildRequest, CacheExport, ImageBuilder } from "./image-builder.ts";
import { computeImageInputs } from "./image-inputs.ts";
import type { ImageInput } from "./image-inputs.ts";
import { mergeHolds } from "./image-hold.ts";
import type { ImageHold } from "./image-hold.ts";
import { imageLabels } from "./image-tags.ts";
import { planImages, tagsToCheck } from "./plan-images.ts";
import type { ImageAction, ImagePlanStep, RegistryView } from "./plan-images.ts";
import { owedPush, registryDidNotAnswer, tagsToPush } from "./pending-push.ts";
import { createRegistryClient, refusedByRegistry, registryHost } from "./registry-client.ts";
import type { RegistryClient } from "./registry-client.ts";
import { checkRegistries } from "./registry-mirrors.ts";
import { createScanGate } from "./scan-gate.ts";
import type { ImageScan, ScanGate } from "./scan-gate.ts";

export type ImagesDeps = {
  engine: DockerEngine;
  store: StatusStore;
  /** The state dir's host lock: every reconcile holds it shared, so no prune runs beside a build. */
  lock: SharedHostLock;
  builder?: ImageBuilder;
  registryClient?: RegistryClient;
  logger?: Logger;
  events?: ReconcileEvents;
  hashCache?: FileHashCache;
  now?: () => Date;
  dockerBinary?: string;
  /**
   * The engine selection's `childEnv`, resolved by the composition root: the whole environment of
   * buildx and `docker push`; pulls read the registry credentials of its docker config.
   */
  dockerEnv: Readonly<Record<string, string>>;
  /** The vulnerability gate's scanner (default: trivy or grype on the child environment's PATH). */
  scanner?: VulnerabilityScanner;
  /** The vulnerability gate, shared with the stacks reconciler's scans of third-party images (default: one over `scanner`). */
  scanGate?: ScanGate;
};

export type ImagesOptions = {
  /** Build only these images (and the images they build FROM). */
  only?: readonly string[];
  /** Overrides each image's `push` (the CLI's --push); `true` also pushes reused images the registry lacks. */
  push?: boolean;
  /** Retry builds that failed before for the same input hash. */
  retryFailed?: boolean;
  /** The pass's batched engine look, when the caller already took it. */
  observed?: Observed;
  signal?: AbortSignal;
  /** Prefix of local repositories when no registry is configured (default "berth"). */
  localPrefix?: string;
  /** Live progress for a person watching (`berth apply`, `berth build`). */
  progress?: ProgressSink;
  /** Scan every image, with berth.yaml's `scan:` settings or the defaults (`berth build --scan`). */
  scan?: boolean;
};

export type ImageOutcome = {
  name: string;
  tag: string;
  inputHash: string;
  action: ImageAction;
  ok: boolean;
  reason: ImageReason;
  message: string;
  pushed: boolean;
  facts?: BuildFacts;
  /** Set when the image is usable but something around it failed (registry down, push refused). */
  degraded?: { reason: ImageReason; message: string };
  /** The registry did not answer: the built image is pushed by a later pass (condition PushPending). */
  pushPending?: string;
  /** A budget with `enforce: true` is breached: rollouts of services using it must wait. */
  budgetBlocks: boolean;
  /** Budget breaches, as messages (set when the outcome is recorded). */
  budgetMessages?: string[];
  /** The vulnerability gate's verdict and facts, when the image was scanned (once it is ready). */
  scan?: ImageScan;
};

export type ImagesResult = {
  machine: string;
  outcomes: ImageOutcome[];
  /** Berth image name → local tag, for every image now present (services with `build:` run it). */
  tags: Map<string, string>;
  /** Berth image name → why its rollouts wait (an enforced budget is breached, the vulnerability gate holds it). */
  holds: Map<string, ImageHold>;
  /** Images whose push waits for the registry to answer again (the agent retries with backoff). */
  pushPending: string[];
  ok: boolean;
  /** Every image was reused as it stood (no build, pull or new tag): the engine's images are as the pass observed them. */
  engineUntouched: boolean;
};

export type ImagesPlan = { inputs: ImageInput[]; steps: ImagePlanStep[]; registry: RegistryView };

/** Everything up to the decision, without building: inputs, hashes, registry look and plan (`berth plan`). */
export async function planImagesForMachine(
  state: DesiredState,
  machine: string,
  deps: Pick<ImagesDeps, "engine" | "store" | "registryClient" | "hashCache">,
  options: Pick<ImagesOptions, "only" | "push" | "observed" | "retryFailed" | "localPrefix"> = {},
): Promise<ImagesPlan> {
  let inputs = await computeImageInputs(state, machine, {
    ...(deps.hashCache ? { cache: deps.hashCache } : {}),
    ...(options.localPrefix ? { localPrefix: options.localPrefix } : {}),
  });
  if (options.only && options.only.length > 0) inputs = withAncestors(inputs, options.only);
  const localImages = (options.observed ?? { images: await deps.engine.listImages() }).images;
  const planInputs = inputs.map((input) => ({
    name: input.name,
    inputHash: input.inputHash,
    tag: input.tag,
    parents: input.parents,
    source: input.spec.source,
    push: state.registry !== undefined && (options.push ?? input.spec.push),
    ...(input.problem ? { problem: input.problem } : {}),
  }));
  let registry: RegistryView = { kind: "none" };
  if (state.registry) {
    const client = deps.registryClient ?? createRegistryClient();
    const asked = options.push === true ? planInputs.filter((i) => !i.problem).map((i) => i.tag) : tagsToCheck(planInputs, localImages);
    // An image that owes a push is asked about too: the answer says whether the registry is back.
    const owed = inputs.filter((i) => owedPush(deps.store.get(statusKey(machine, i.name)))?.inputHash === i.inputHash).map((i) => i.tag);
    const targets = { registry: state.registry, ...(state.registryMirrors ? { registryMirrors: state.registryMirrors } : {}) };
    registry = await checkRegistries(client, targets, [...new Set([...asked, ...owed])]);
  }
  const failedBefore = new Map<string, string>();
  if (!options.retryFailed) {
    for (const input of inputs) {
      const failed = deps.store.get(statusKey(machine, input.name))?.failed;
      if (failed?.reason === ImageReason.BuildFailed) failedBefore.set(input.name, failed.inputHash);
    }
  }
  return { inputs, steps: planImages({ images: planInputs, localImages, registry, failedBefore }), registry };
}

export function statusKey(machine: string, name: string): KeyOf<"image"> {
  return { kind: "image", machine, name };
}

function withAncestors(inputs: ImageInput[], only: readonly string[]): ImageInput[] {
  const byName = new Map(inputs.map((input) => [input.name, input]));
  const keep = new Set<string>();
  const visit = (name: string): void => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const parent of byName.get(name)?.parents ?? []) visit(parent);
  };
  for (const name of only) visit(name);
  return inputs.filter((input) => keep.has(input.name));
}

export function createImagesReconciler(deps: ImagesDeps) {
  const logger = deps.logger ?? silentLogger();
  const events = deps.events ?? noEvents;
  const dockerEnv = deps.dockerEnv;
  const builder =
    deps.builder ?? createBuildxBuilder({ env: dockerEnv, ...(deps.dockerBinary ? { dockerBinary: deps.dockerBinary } : {}) });
  const hashCache = deps.hashCache ?? createFileHashCache();
  /** Registry credentials for pulls, from the docker config the docker children read. */
  const credentials = createDockerCredentials({ env: dockerEnv });
  const now = deps.now ?? (() => new Date());
  const docker = deps.dockerBinary ?? "docker";
  const scanGate =
    deps.scanGate ??
    createScanGate({ scanner: deps.scanner ?? createVulnerabilityScanner({ env: dockerEnv }), stateDir: deps.store.dir, now, logger });
  let imageStore: Promise<"overlay2" | "containerd"> | undefined;
  /** Local tag of each image that is ready this pass (children measure shared bytes against it). */
  const parentTags = new Map<string, string>();

  function reconcile(state: DesiredState, machine: string, options: ImagesOptions = {}): Promise<ImagesResult> {
    return deps.lock.shared(`build images for ${machine}`, () => reconcileHoldingLock(state, machine, options));
  }

  async function reconcileHoldingLock(state: DesiredState, machine: string, options: ImagesOptions): Promise<ImagesResult> {
    const started = performance.now();
    const plan = await planImagesForMachine(state, machine, { ...deps, hashCache }, options);
    const inputs = new Map(plan.inputs.map((input) => [input.name, input]));
    const outcomes = new Map<string, ImageOutcome>();
    let listed: Promise<readonly ObservedImage[]> | undefined;
    const engineImages = (): Promise<readonly ObservedImage[]> =>
      (listed ??= options.observed ? Promise.resolve(options.observed.images) : deps.engine.listImages());
    for (const step of plan.steps) {
      const input = inputs.get(step.name);
      if (!input) continue;
      const fields = { image: step.name, machine, action: step.action, reason: step.reason, tag: step.tag };
      if (step.action === "reuse") logger.debug(fields, "image planned");
      else logger.info(fields, "image planned");
      const failedParent = input.parents.map((p) => outcomes.get(p)).find((o) => o && !o.ok);
      const outcome = failedParent
        ? stalledOutcome(
            step,
            ImageReason.ParentFailed,
            `parent "${failedParent.name}" failed (${failedParent.reason}): ${failedParent.message}`,
          )
        : await carryOut(state, machine, step, input, plan, options);
      outcomes.set(step.name, outcome);
      const settings = outcome.ok && outcome.facts ? scanSettingsFor(state.scan, input.spec.scan, options.scan) : undefined;
      if (settings && outcome.facts)
        outcome.scan = await scanGate.assess({ name: step.name, ref: outcome.tag, imageId: outcome.facts.imageId }, settings);
      await record(state, machine, input, outcome, engineImages);
      options.progress?.(doneEvent(outcome));
    }
    const list = [...outcomes.values()];
    const ok = list.every((o) => o.ok);
    const anyWork = list.some((o) => o.action === "build" || o.action === "pull");
    const retagged = plan.steps.some((step) => step.action === "reuse" && step.needsTag);
    events.reconciled("images", ok ? (anyWork ? "success" : "noop") : "failure", (performance.now() - started) / 1000);
    const holds = new Map<string, ImageHold>();
    for (const o of list) {
      const budget = o.budgetBlocks
        ? { reason: ServiceReason.BudgetEnforced, message: enforcedBudgetHold(o.name, o.budgetMessages ?? []) }
        : undefined;
      const hold = o.ok ? mergeHolds([budget, o.scan?.verdict.hold]) : undefined;
      if (hold) holds.set(o.name, hold);
    }
    const pushPending = list.filter((o) => o.pushPending !== undefined).map((o) => o.name);
    const tags = new Map(list.filter((o) => o.ok).map((o) => [o.name, o.tag]));
    return { machine, outcomes: list, ok, tags, holds, pushPending, engineUntouched: !anyWork && !retagged };
  }

  function stalledOutcome(step: ImagePlanStep, reason: ImageReason, message: string): ImageOutcome {
    return {
      name: step.name,
      tag: step.tag,
      inputHash: step.inputHash,
      action: "stalled",
      ok: false,
      reason,
      message,
      pushed: false,
      budgetBlocks: false,
    };
  }

  async function carryOut(
    state: DesiredState,
    machine: string,
    step: ImagePlanStep,
    input: ImageInput,
    plan: ImagesPlan,
    options: ImagesOptions,
  ): Promise<ImageOutcome> {
    const previous = deps.store.get(statusKey(machine, step.name))?.build;
    if (step.action === "stalled") {
      const failed = deps.store.get(statusKey(machine, step.name))?.failed;
      const message =
        step.reason === ImageReason.BuildFailed && failed?.inputHash === step.inputHash
          ? `${step.message}. Last error:\n${failed.message}`
          : step.message;
      return stalledOutcome(step, step.reason, message);
    }
    if (step.action === "reuse") {
      if (step.needsTag && step.localImageId) await deps.engine.tagImage(step.localImageId, step.tag);
      const facts =
        previous?.inputHash === step.inputHash && previous.tag === step.tag ? previous : await factsFor(input, "reuse", previous, {});
      let pushed = false;
      const owed = owedPush(deps.store.get(statusKey(machine, step.name)));
      const primary = plan.registry.kind === "reachable" && !plan.registry.mirror ? plan.registry : undefined;
      if (owed?.inputHash === step.inputHash) {
        const settled = primary ? await pushOwed(step, input, owed.imageId, primary) : undefined;
        if (!settled?.ok && facts) return reused(step, facts, { pushPending: settled?.message ?? pendingMessage(plan.registry, step.tag) });
        pushed = settled?.ok === true && settled.pushed;
      } else if (options.push === true && primary && !primary.present.has(step.tag)) {
        pushed = await push(step.name, [step.tag]).then(
          () => true,
          () => false,
        );
      }
      if (!facts)
        return {
          ...stalledOutcome(
            step,
            ImageReason.ImageMissing,
            `${step.tag} was present when the pass looked, but the engine no longer has it`,
          ),
          action: "reuse",
        };
      return reused(step, facts, { pushed });
    }
    if (step.action === "pull") {
      const resource = imageResource(step.name);
      options.progress?.({ type: "phase", resource, phase: "pulling" });
      const pulled = await pullImage({ engine: deps.engine, credentials }, step.from ?? step.tag, {
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (bytes) => options.progress?.({ type: "bytes", resource, ...bytes }),
      });
      events.imagePulled(step.name, machine, pulled.ok ? "success" : "failure");
      if (pulled.ok) {
        // From a mirror: the image carries the primary's reference berth expects, not the mirror's.
        if (step.from) await deps.engine.tagImage(step.from, step.tag).then(() => deps.engine.removeImage(step.from ?? step.tag));
        await deps.engine.tagImage(step.tag, input.humanTag).catch(() => undefined);
        const facts = await factsFor(input, "pull", previous, {});
        if (!facts)
          return {
            ...stalledOutcome(
              step,
              ImageReason.ImageMissingAfterPull,
              `the pull of ${step.tag} succeeded, but the engine has no such image afterwards`,
            ),
            action: "pull",
          };
        return {
          name: step.name,
          tag: step.tag,
          inputHash: step.inputHash,
          action: "pull",
          ok: true,
          reason: ImageReason.Pulled,
          message: step.from ? `pulled ${step.tag} from ${step.from}` : `pulled ${step.tag}`,
          pushed: false,
          facts,
          budgetBlocks: false,
        };
      }
      const why = lastLines(pulled.message);
      const reason = refusedByRegistry(pulled.message) ? ImageReason.RegistryUnauthorized : ImageReason.PullFailed;
      logger.warn({ image: step.name, machine, tag: step.from ?? step.tag, reason, error: why }, "image pull failed");
      if (input.spec.source === "pull") return stalledOutcome(step, reason, `pull of ${step.from ?? step.tag} failed: ${why}`);
      return build(
        state,
        machine,
        { ...step, reason, message: `pull of ${step.tag} failed (${why}); building instead`, push: false },
        input,
        plan,
        previous,
        options,
      );
    }
    return build(state, machine, step, input, plan, previous, options);
  }

  async function build(
    state: DesiredState,
    machine: string,
    step: ImagePlanStep,
    input: ImageInput,
    plan: ImagesPlan,
    previous: BuildFacts | undefined,
    options: ImagesOptions,
  ): Promise<ImageOutcome> {
    const at = now();
    // A registry that refused this image's tag would refuse its cache too; one that does not answer has none to give.
    const reachable = plan.registry.kind === "reachable" && !plan.registry.mirror && step.reason !== ImageReason.RegistryUnauthorized;
    const store = reachable
      ? await (imageStore ??= deps.engine.engineInfo().then(
          (i) => i.imageStore,
          () => "overlay2" as const,
        ))
      : "overlay2";
    const cacheRef = `${input.repository}:buildcache${input.machineSpecific ? `-${machine}` : ""}`;
    const cacheFrom = reachable
      ? unique([
          step.tag,
          input.latestTag,
          ...(previous?.tag.startsWith(`${input.repository}:`) ? [previous.tag] : []),
          ...(store === "containerd" ? [cacheRef] : []),
        ])
      : [];
    const cacheTo: CacheExport | undefined = step.push
      ? store === "containerd"
        ? { kind: "registry", ref: cacheRef }
        : { kind: "inline" }
      : undefined;
    const parentTags = Object.fromEntries(
      input.parents.flatMap((parent) => {
        const tag = plan.inputs.find((i) => i.name === parent)?.tag;
        return tag ? [[parent, tag]] : [];
      }),
    );
    const request: BuildRequest = {
      image: step.name,
      context: input.spec.context,
      dockerfile: input.spec.dockerfile,
      tags: unique([step.tag, input.humanTag, ...(step.push ? [input.latestTag] : [])]),
      buildArgs: input.buildArgs,
      labels: imageLabels({
        name: step.name,
        inputHash: step.inputHash,
        revision: state.revision,
        machine: input.machineSpecific ? machine : undefined,
        version: input.humanTag.split(":").pop() ?? "",
        createdAt: at,
      }),
      platform: input.spec.platform,
      namedContexts: parentTags,
      cacheFrom,
      ...(cacheTo ? { cacheTo } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (s) =>
        logger.info({ image: step.name, machine, step: s.name, cached: s.cached, ms: s.durationMs, error: s.error }, "build step"),
      ...(options.progress
        ? { onCounts: (c: StepCounts) => options.progress?.({ type: "steps", resource: imageResource(step.name), ...c }) }
        : {}),
    };
    options.progress?.({ type: "phase", resource: imageResource(step.name), phase: "building" });
    logger.info({ image: step.name, machine, tag: step.tag, cacheFrom, cacheTo: cacheTo?.kind }, "image build started");
    const outcome = await builder.build(request);
    events.imageBuilt(step.name, machine, outcome.ok ? "success" : "failure");
    if (!outcome.ok) {
      logger.warn({ image: step.name, machine, error: outcome.message }, "image build failed");
      const reason = /failed to resolve source metadata|pull access denied|repository does not exist|not found: not found/i.test(
        outcome.errorLines.join("\n"),
      )
        ? ImageReason.BaseImageUnavailable
        : ImageReason.BuildFailed;
      return { ...stalledOutcome(step, reason, outcome.errorLines.join("\n").slice(-4000) || outcome.message), action: "build" };
    }
    // A cache existed when this host built or pulled the image before, or the registry holds a cache source.
    const cacheExisted =
      previous !== undefined ||
      (cacheFrom.length > 0 &&
        state.registry !== undefined &&
        (await cacheInRegistry(
          state.registry,
          cacheFrom.filter((ref) => ref !== step.tag),
        )));
    const facts = await factsFor(input, "build", previous, {
      durationSeconds: outcome.durationSeconds,
      ...(outcome.cacheHitRatio !== undefined ? { cacheHitRatio: outcome.cacheHitRatio } : {}),
      cacheExisted,
    });
    if (!facts)
      return {
        ...stalledOutcome(
          step,
          ImageReason.ImageMissingAfterBuild,
          `the build of ${step.tag} succeeded (${outcome.durationSeconds.toFixed(1)} s), but the engine has no such image afterwards`,
        ),
        action: "build",
      };
    logger.info(
      {
        image: step.name,
        machine,
        tag: step.tag,
        seconds: outcome.durationSeconds,
        cacheHitRatio: outcome.cacheHitRatio,
        sizeBytes: facts?.sizeBytes,
      },
      "image built",
    );
    let pushed = false;
    let pushError: string | undefined;
    const pushWanted = state.registry !== undefined && (options.push ?? input.spec.push);
    let pushPending = pushWanted && step.reason === "RegistryUnreachable" ? pendingMessage(plan.registry, step.tag) : undefined;
    if (step.push) {
      try {
        await push(step.name, request.tags);
        pushed = true;
      } catch (error) {
        pushError = error instanceof Error ? error.message : String(error);
        logger.warn({ image: step.name, machine, error: pushError }, "image push failed");
        if (registryDidNotAnswer(pushError)) pushPending = `push of ${step.tag} waits for the registry to answer: ${lastLines(pushError)}`;
      }
    }
    const reason =
      step.reason === ImageReason.RegistryUnreachable || step.reason === ImageReason.RegistryUnauthorized
        ? ImageReason.BuiltLocally
        : ImageReason.Built;
    const message =
      `built ${step.tag} in ${outcome.durationSeconds.toFixed(1)} ` +
      `s${outcome.cacheHitRatio !== undefined ? `, cache hits ${(outcome.cacheHitRatio * 100).toFixed(0)} %` : ""}`;
    const degraded = pushPending
      ? { reason: ImageReason.RegistryUnreachable, message: pushPending }
      : pushError
        ? {
            reason: refusedByRegistry(pushError) ? ImageReason.RegistryUnauthorized : ImageReason.PushFailed,
            message: `push of ${step.tag} to the registry failed: ${pushError}`,
          }
        : step.reason === ImageReason.RegistryUnreachable ||
            step.reason === ImageReason.RegistryUnauthorized ||
            step.reason === ImageReason.PullFailed
          ? { reason: step.reason, message: step.message }
          : undefined;
    return {
      name: step.name,
      tag: step.tag,
      inputHash: step.inputHash,
      action: "build",
      ok: true,
      reason,
      message: degraded ? `${message}; ${degraded.message}` : message,
      pushed,
      facts,
      ...(degraded ? { degraded } : {}),
      ...(pushPending ? { pushPending } : {}),
      budgetBlocks: false,
    };
  }

  function reused(step: ImagePlanStep, facts: BuildFacts, extra: { pushed?: boolean; pushPending?: string }): ImageOutcome {
    return {
      name: step.name,
      tag: step.tag,
      inputHash: step.inputHash,
      action: "reuse",
      ok: true,
      reason: step.reason,
      message: step.message,
      pushed: extra.pushed ?? false,
      facts,
      ...(extra.pushPending ? { pushPending: extra.pushPending } : {}),
      budgetBlocks: false,
    };
  }

  /**
   * The push owed since the registry did not answer: the exact image id built then, under its
   * content and human tags (the content tag put back on that id first). A registry that has the
   * content tag already (another host pushed the same inputs) owes nothing.
   */
  async function pushOwed(
    step: ImagePlanStep,
    input: ImageInput,
    imageId: string,
    registry: Extract<RegistryView, { kind: "reachable" }>,
  ): Promise<{ ok: true; pushed: boolean } | { ok: false; message: string }> {
    if (registry.present.has(step.tag)) return { ok: true, pushed: false };
    try {
      if ((await deps.engine.inspectImage(step.tag))?.id !== imageId) await deps.engine.tagImage(imageId, step.tag);
      const tags = unique([step.tag, ...tagsToPush(imageId, input.repository, await deps.engine.listImages())]);
      await push(step.name, tags);
      logger.info({ image: step.name, imageId, tags }, "pending image push done");
      return { ok: true, pushed: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ image: step.name, imageId, error: message }, "pending image push failed");
      return { ok: false, message: `push of ${step.tag} (image ${imageId.slice(7, 19)}) still pending: ${lastLines(message)}` };
    }
  }

  async function cacheInRegistry(registry: string, refs: readonly string[]): Promise<boolean> {
    if (refs.length === 0) return false;
    const view = await (deps.registryClient ?? createRegistryClient()).check(registryHost(registry), refs).catch(() => undefined);
    return view?.kind === "reachable" && view.present.size > 0;
  }

  async function push(image: string, tags: readonly string[]): Promise<void> {
    for (const tag of tags) {
      logger.info({ image, tag }, "image push");
      await runCommand(docker, ["push", "--quiet", tag], { timeoutMs: 15 * 60_000, env: dockerEnv });
    }
  }

  async function factsFor(
    input: ImageInput,
    action: BuildFacts["action"],
    previous: BuildFacts | undefined,
    measured: { durationSeconds?: number; cacheHitRatio?: number; cacheExisted?: boolean },
  ): Promise<BuildFacts | undefined> {
    const inspected = await deps.engine.inspectImage(input.tag);
    if (!inspected) return undefined;
    const parentRef = input.parents[0] ? parentTags.get(input.parents[0]) : undefined;
    const parent = parentRef ? await deps.engine.inspectImage(parentRef) : undefined;
    const shared = sharedBytesWithParent(inspected, parent);
    const previousSize = previous && previous.inputHash !== input.inputHash ? previous.sizeBytes : previous?.previousSizeBytes;
    return {
      inputHash: input.inputHash,
      tag: input.tag,
      imageId: inspected.id,
      action,
      ...measured,
      sizeBytes: inspected.sizeBytes,
      ...(shared !== undefined ? { sharedBytes: shared } : {}),
      ...(previousSize !== undefined ? { previousSizeBytes: previousSize } : {}),
      recordedAt: now().getTime(),
    };
  }

  /** The baseline of a `minReduction` budget; a baseline image's size comes from the pass's engine look, as in the metrics. */
  async function budgetBaseline(
    spec: ImageSpec,
    facts: BuildFacts,
    engineImages: () => Promise<readonly ObservedImage[]>,
  ): Promise<ReductionBaseline | undefined> {
    if (spec.budgets.minReduction === undefined) return undefined;
    return reductionBaseline(spec.baseline, facts.previousSizeBytes, spec.baseline?.image ? await engineImages() : []);
  }

  async function record(
    state: DesiredState,
    machine: string,
    input: ImageInput,
    outcome: ImageOutcome,
    engineImages: () => Promise<readonly ObservedImage[]>,
  ): Promise<void> {
    if (outcome.ok) parentTags.set(outcome.name, outcome.tag);
    const key = statusKey(machine, input.name);
    const previous = deps.store.get(key);
    let budgets: ExceededBudget[] = [];
    const at = now();
    let conditions: Condition<ImageReason>[] = previous?.conditions ?? [];
    let failed = previous?.failed;
    let budgetBlocks = false;
    if (outcome.ok) {
      conditions = setCondition(conditions, { type: "Ready", status: "True", reason: outcome.reason, message: outcome.message }, at);
      conditions = removeCondition(conditions, "Stalled");
      if (outcome.degraded) conditions = setCondition(conditions, { type: "Degraded", status: "True", ...outcome.degraded }, at);
      else if (outcome.action !== "reuse" || (owedPush(previous) && outcome.pushPending === undefined))
        conditions = removeCondition(conditions, "Degraded"); // a build, or the push owed since the registry was down is settled
      conditions =
        outcome.pushPending === undefined
          ? removeCondition(conditions, "PushPending")
          : setCondition(
              conditions,
              { type: "PushPending", status: "True", reason: ImageReason.RegistryUnreachable, message: outcome.pushPending },
              at,
            );
      const breaches = outcome.facts
        ? budgetBreaches(outcome.facts, input.spec.budgets, await budgetBaseline(input.spec, outcome.facts, engineImages))
        : [];
      outcome.budgetMessages = breaches.map((b) => b.message);
      if (breaches.length > 0) {
        budgetBlocks = input.spec.budgets.enforce === true;
        budgets = breaches.map((b) => ({ budget: b.budget, limit: b.limit }));
        conditions = setCondition(
          conditions,
          {
            type: "BudgetExceeded",
            status: "True",
            reason: budgetBlocks ? ImageReason.BudgetEnforced : ImageReason.BudgetWarning,
            message: breaches.map((b) => b.message).join("; "),
          },
          at,
        );
      } else conditions = removeCondition(conditions, "BudgetExceeded"); // a reused image keeps its build's facts, so this re-judges them
      conditions = outcome.scan
        ? setCondition(conditions, { type: "Vulnerable", ...outcome.scan.verdict.condition }, at)
        : removeCondition(conditions, "Vulnerable");
      if (outcome.action !== "reuse") failed = undefined;
    } else {
      conditions = setCondition(conditions, { type: "Ready", status: "False", reason: outcome.reason, message: outcome.message }, at);
      conditions = setCondition(conditions, { type: "Stalled", status: "True", reason: outcome.reason, message: outcome.message }, at);
      // The build itself worked when its image vanished afterwards: the next pass builds again.
      if (outcome.action === "build" && outcome.reason !== ImageReason.ImageMissingAfterBuild)
        failed = {
          revision: state.revision,
          inputHash: outcome.inputHash,
          reason: ImageReason.BuildFailed,
          message: outcome.message,
          at: at.getTime(),
        };
    }
    outcome.budgetBlocks = budgetBlocks;
    const build = outcome.facts ?? previous?.build;
    const vulnerabilities = outcome.ok ? outcome.scan?.facts : previous?.vulnerabilities;
    const next: ImageStatus = {
      kind: "image",
      key: formatKey(key),
      conditions,
      observedRevision: state.revision,
      ...(outcome.ok
        ? { lastAppliedRevision: state.revision }
        : previous?.lastAppliedRevision
          ? { lastAppliedRevision: previous.lastAppliedRevision }
          : {}),
      ...(build ? { build } : {}),
      ...(budgets.length > 0 ? { budgets } : {}),
      ...(vulnerabilities ? { vulnerabilities } : {}),
      ...(failed ? { failed } : {}),
      ...(previous?.records || outcome.facts ? { records: recordsWith(previous?.records, outcome) } : {}),
      updatedAt: previous?.updatedAt ?? at.toISOString(),
    };
    if (previous && sameStatus(previous, next)) return;
    await deps.store.put({ ...next, updatedAt: at.toISOString() });
  }

  return {
    reconcile,
    plan: (state: DesiredState, machine: string, options: ImagesOptions = {}) =>
      planImagesForMachine(state, machine, { ...deps, hashCache }, options),
  };
}

export type ImagesReconciler = ReturnType<typeof createImagesReconciler>;

/** What a person watching sees of one image's result: warnings, and what a build measured. */
function doneEvent(outcome: ImageOutcome): ProgressEvent {
  const facts = outcome.facts;
  const built = outcome.action === "build";
  return {
    type: "done",
    resource: imageResource(outcome.name),
    ok: outcome.ok,
    action: outcome.action,
    reason: outcome.reason,
    message: outcome.message,
    warnings: [
      ...(outcome.degraded ? [outcome.degraded.reason] : []),
      ...(outcome.budgetMessages ?? []).map((m) => `budget: ${m}`),
      ...(outcome.scan && outcome.scan.verdict.condition.status !== "False"
        ? [`${outcome.scan.verdict.condition.reason}: ${outcome.scan.verdict.condition.message}`]
        : []),
    ],
    ...(facts
      ? {
          facts: {
            ...(built && facts.durationSeconds !== undefined ? { seconds: facts.durationSeconds } : {}),
            ...(built && facts.cacheHitRatio !== undefined ? { cacheHitRatio: facts.cacheHitRatio } : {}),
            sizeBytes: facts.sizeBytes,
          },
        }
      : {}),
  };
}

function recordsWith(records: Record<string, number> | undefined, outcome: ImageOutcome): Record<string, number> {
  const out = { ...records };
  if (outcome.facts && (outcome.action === "build" || outcome.action === "pull") && out[outcome.tag] === undefined)
    out[outcome.tag] = outcome.facts.recordedAt;
  return out;
}

function sameStatus(a: ImageStatus, b: ImageStatus): boolean {
  return JSON.stringify({ ...a, updatedAt: "" }) === JSON.stringify({ ...b, updatedAt: "" });
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" ").trim() || "unknown error";
}

function pendingMessage(registry: RegistryView, tag: string): string {
  const why =
    registry.kind === "unreachable" ? registry.message : registry.kind === "reachable" ? registry.mirror?.primaryMessage : undefined;
  const host = registry.kind === "none" ? "" : ` ${registry.host}`;
  return (
    `${tag} was built while registry${host} did not answer${why ? ` (${why})` : ""}; ` +
    "the agent pushes it once the registry answers again"
  );
}
