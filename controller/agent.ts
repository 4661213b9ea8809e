// The agent, berth's composition root: wires sources (watch, git, docker events, resync,
// webhook, cron) to one keyed work queue whose keys run the reconcilers, and serves HTTP.
import { readFile, realpath } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { DEFAULT_RESYNC_SECONDS, forMachine, profileOf } from "../desired-state/desired-state.ts";
import type { DesiredState } from "../desired-state/desired-state.ts";
import { createGitSync, revisionFromPath } from "../desired-state/git-sync.ts";
import type { GitSync } from "../desired-state/git-sync.ts";
import { loadDesiredState } from "../desired-state/load-desired-state.ts";
import { createComposeNormalizer } from "../desired-state/normalize-compose.ts";
import { formatProblem } from "../desired-state/problem.ts";
import type { Problem } from "../desired-state/problem.ts";
import { createCommitVerifier } from "../desired-state/verify-commit.ts";
import { watchDesiredState } from "../desired-state/watch-desired-state.ts";
import { createBerthMetrics } from "../metrics/berth-metrics.ts";
import { createNvidiaSmiReader } from "../metrics/gpu/nvidia-smi-reader.ts";
import { renderExposition } from "../metrics/metrics-handler.ts";
import { systemClock } from "../platform/clock.ts";
import type { Clock } from "../platform/clock.ts";
import { createComposeCli } from "../platform/compose-cli.ts";
import type { ComposeCli } from "../platform/compose-cli.ts";
import { createDockerEngine } from "../platform/docker-engine.ts";
import type { DockerEngine } from "../platform/docker-engine.ts";
import { describeEngine, processEngineSelection } from "../platform/engine-selection.ts";
import type { EngineSelection } from "../platform/engine-selection.ts";
import { LABELS } from "../platform/labels.ts";
import { createLogger } from "../platform/logger.ts";
import type { Logger } from "../platform/logger.ts";
import { admittedState } from "../policy/admitted-state.ts";
import { checkHostPolicy } from "../policy/check-host-policy.ts";
import { loadPolicy } from "../policy/load-policy.ts";
import { summarizeProblems } from "../policy/policy-problems.ts";
import { selectMachine } from "../profiles/select-machine.ts";
import { createImagesReconciler } from "../reconcilers/images/images-reconciler.ts";
import { effectivePruneSpec, runPrune } from "../reconcilers/prune/prune-reconciler.ts";
import { createPruneScheduler } from "../reconcilers/prune/prune-schedule.ts";
import { createContainerOps } from "../reconcilers/stacks/container-ops.ts";
import { reconcileStack, stacksToReconcile } from "../reconcilers/stacks/stack-reconciler.ts";
import { createImageResolver } from "../reconcilers/stacks/third-party-images.ts";
import type { ImageResolver } from "../reconcilers/stacks/third-party-images.ts";
import { pinServiceRollback, retryService } from "../reconcilers/stacks/manual-actions.ts";
import { stackKey } from "../reconcilers/stacks/service-status.ts";
import type { StackContext } from "../reconcilers/stacks/stack-context.ts";
import { getCondition, setCondition } from "../status/conditions.ts";
import type { Condition } from "../status/conditions.ts";
import type { SourceStatus } from "../status/resource-status.ts";
import { openStatusStore } from "../status/status-store.ts";
import type { StatusStore } from "../status/status-store.ts";
import { openSharedHostLock } from "../status/shared-host-lock.ts";
import type { AgentConfig } from "./agent-config.ts";
import { startHttpServer } from "./http-server.ts";
import { composeCacheDir } from "./load-for-cli.ts";
import { watchDockerEvents } from "./sources/docker-events-source.ts";
import { everyInterval } from "./sources/interval-source.ts";
import { buildStatusView } from "./status-view.ts";
import type { EngineView } from "./status-view.ts";
import { createWorkQueue, TerminalError } from "./work-queue.ts";

export const SOURCE_KEY = "source";
export const GIT_KEY = "git";
export const IMAGES_KEY = "images";
export const PRUNE_KEY = "prune";
const STACK_PREFIX = "stack/";

/** `selection`: the one engine every part drives (API client, compose, buildx, docker CLI, metrics); default: the process environment's. */
export type AgentDeps = { selection?: EngineSelection; engine?: DockerEngine; compose?: ComposeCli; clock?: Clock; logger?: Logger };

export type Agent = {
  /** Resolves when the agent has stopped (SIGTERM, stop(), or the end of --once). */
  done: Promise<number>;
  address?: string;
  stop(): Promise<void>;
  /** Waits until no work is queued or running (tests and --once). */
  idle(): Promise<void>;
  statusView(): Promise<ReturnType<typeof buildStatusView>>;
  store: StatusStore;
};

/** The loaded desired state, this host's machine, and the stacks the host policy refuses. */
type Current = { state: DesiredState; machine: string; denied: ReadonlyMap<string, Problem[]> };

export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<Agent> {
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const policyLoad = await loadPolicy(config.policy);
  if (!policyLoad.ok) throw new Error(`host policy not valid: ${policyLoad.problems.map(formatProblem).join("; ")}`);
  const policy = policyLoad.policy;
  logger.info({ file: policyLoad.file ?? "(none)", level: policy.level }, "host policy loaded");
  const clock = deps.clock ?? systemClock;
  const selection = deps.selection ?? processEngineSelection();
  const engine = deps.engine ?? createDockerEngine(selection);
  const compose = deps.compose ?? createComposeCli({ env: selection.childEnv });
  const normalizer = createComposeNormalizer(compose, { cacheDir: composeCacheDir(config.stateDir) });
  const store = await openStatusStore(config.stateDir);
  for (const problem of store.loadProblems) logger.warn({ problem }, "unreadable state file skipped");
  const lock = openSharedHostLock(config.stateDir, { onWait: (holder) => logger.info({ holder }, "waiting for the host lock") });
  const ops = createContainerOps({ env: selection.childEnv });
  const registry = new Registry();
  const gpu = createNvidiaSmiReader({ onProblem: (message) => logger.info({ detail: message }, "gpu metrics unavailable") });
  const metrics = createBerthMetrics({ registry, store, engine, gpu, machine: config.machine ?? "unknown" });
  const images = createImagesReconciler({
    engine,
    dockerEnv: selection.childEnv,
    store,
    lock,
    logger: logger.child({ reconciler: "images" }),
    events: metrics.events,
  });
  /** The engine as logs and the status view name it; the server version is asked again when the event stream reconnects (an upgraded dockerd). */
  let engineView: EngineView = { endpoint: selection.endpoint, source: describeEngine(selection) };
  async function lookAtEngine(): Promise<void> {
    try {
      const info = await engine.engineInfo();
      engineView = { endpoint: selection.endpoint, source: describeEngine(selection), serverVersion: info.serverVersion };
      logger.info(
        {
          engine: selection.endpoint,
          selectedBy: selection.source,
          ...(selection.context ? { context: selection.context } : {}),
          serverVersion: info.serverVersion,
          imageStore: info.imageStore,
        },
        "engine selected",
      );
    } catch (error) {
      engineView = {
        endpoint: selection.endpoint,
        source: describeEngine(selection),
        error: error instanceof Error ? error.message : String(error),
      };
      logger.warn({ engine: selection.endpoint, selectedBy: selection.source, err: engineView.error }, "engine not answering");
    }
  }
  void lookAtEngine();
  const apiToken = config.apiTokenFile ? (await readFile(config.apiTokenFile, "utf8")).trim() : undefined;
  const webhookSecret = config.webhookSecretFile ? (await readFile(config.webhookSecretFile, "utf8")).trim() : undefined;

  const gitSync: GitSync | undefined = config.repo
    ? createGitSync({
        url: config.repo,
        branch: config.branch,
        dir: join(config.stateDir, "source"),
        intervalSeconds: config.fetchIntervalSeconds,
        logger: logger.child({ source: "git" }),
        verifyRange: config.verifyRange,
        noRollback: config.noRollback,
        ...(config.verifyCommits
          ? {
              verify: createCommitVerifier(
                config.verifyCommits === "ssh"
                  ? { format: "ssh", allowedSignersFile: config.allowedSigners ?? "" }
                  : { format: "gpg", keyringDir: config.gpgKeyring ?? "" },
              ),
            }
          : {}),
      })
    : undefined;

  let current: Current | undefined;
  /** The periodic full resync, rescheduled when berth.yaml's `resync` changes. */
  let resync: { seconds: number; stop(): void } | undefined;
  function scheduleResync(seconds: number): void {
    if (config.once || resync?.seconds === seconds) return;
    resync?.stop();
    const timer = everyInterval(seconds, requestPass);
    resync = { seconds, stop: () => timer.stop() };
  }
  let imageTags: Record<string, string> = {};
  let imageHolds: Record<string, string> = {};
  /** The pass's registry look-ups and pulls of images berth does not build (new each pass). */
  let imageResolver: ImageResolver | undefined;
  const newImageResolver = (machine: string): ImageResolver =>
    createImageResolver({ machine, logger: logger.child({ reconciler: "stacks" }), events: metrics.events });
  /** Set by a resync or `berth reconcile` under git-sync: run a pass even if the branch did not move. */
  let passRequested = false;
  /** A full pass (resync, `berth reconcile`): tracked tags are looked up again even without a new commit. */
  function requestPass(): void {
    if (!gitSync) return queue.add(SOURCE_KEY);
    passRequested = true;
    queue.add(GIT_KEY);
  }
  let imagesRevision: string | undefined;
  let ready = false;
  /** Why the git source may not be applied (verification failed, or a replayed tip with --no-rollback). */
  let gitBlocked: { reason: string; message: string } | undefined;
  /** Stacks of the pass in progress; when it empties, the pass is complete. */
  let pending = new Set<string>();
  let passStarted = 0;
  let passOk = true;
  /** Whether the last images reconcile left every image ready (the stacks alone cannot make the host Ready otherwise). */
  let imagesOk = false;
  /** Set when a pass kept stacks because the desired state had none (no allowEmpty): the pass is not a success. */
  let emptyRefused: string | undefined;

  async function putStatus(key: typeof SOURCE_KEY, change: (previous: SourceStatus) => Partial<SourceStatus>): Promise<void> {
    const previous = store.get({ kind: key }) ?? { kind: key, key, conditions: [], updatedAt: new Date(clock.now()).toISOString() };
    await store.put({ ...previous, ...change(previous), kind: key, key, updatedAt: new Date(clock.now()).toISOString() });
  }

  function withConditions(conditions: Condition[], ...next: Array<Omit<Condition, "lastTransitionTime">>): Condition[] {
    return next.reduce((acc, c) => setCondition(acc, c, new Date(clock.now())), conditions);
  }

  async function reconcileGit(): Promise<void> {
    if (!gitSync) return;
    const result = await gitSync.sync();
    if (result.ok) {
      gitBlocked = undefined;
      await putStatus(SOURCE_KEY, (p) => ({
        conditions: withConditions(
          p.conditions,
          {
            type: "SourceVerified",
            status: config.verifyCommits ? "True" : "Unknown",
            reason: config.verifyCommits ? "Verified" : "NotRequired",
            message: config.verifyCommits
              ? `commit ${result.revision.slice(0, 7)} is signed by a trusted key`
              : "commit verification is off",
          },
          // A fetch that works again clears a FetchFailed/CheckoutFailed even when the branch did not move.
          { type: "Degraded", status: "False", reason: "Fine", message: "" },
        ),
      }));
      if (result.changed || !current || passRequested) queue.add(SOURCE_KEY);
      passRequested = false;
      return;
    }
    if (result.reason === "VerificationFailed" || result.reason === "NotDescendant") {
      gitBlocked = { reason: result.reason, message: result.message };
      await putStatus(SOURCE_KEY, (p) => ({
        conditions: withConditions(p.conditions, {
          type: "SourceVerified",
          status: "False",
          reason: result.reason,
          message: result.message,
        }),
      }));
      throw new TerminalError(result.reason, result.message);
    }
    await putStatus(SOURCE_KEY, (p) => ({
      conditions: withConditions(p.conditions, {
        type: "Degraded",
        status: "True",
        reason: result.reason,
        message: `${result.message}; the host stays on the last good commit`,
      }),
    }));
    throw new Error(result.message);
  }

  async function reconcileSource(): Promise<void> {
    if (gitBlocked) throw new TerminalError(gitBlocked.reason, gitBlocked.message);
    const published = gitSync ? gitSync.currentPath : (config.desiredState ?? "");
    let root: string;
    try {
      root = await realpath(published);
    } catch {
      if (gitSync) return; // nothing published yet: the git key publishes and re-adds us
      throw new TerminalError("DesiredStateMissing", `desired-state directory ${published} not found`);
    }
    const revision = gitSync ? revisionFromPath(root) : undefined;
    logger.info({ root, ...(revision ? { revision } : {}) }, "pass started");
    const loaded = await loadDesiredState(root, { compose: normalizer, ...(revision ? { revision } : {}) });
    metrics.setDesiredState(loaded);
    if (!loaded.ok) {
      const message =
        loaded.problems.slice(0, 5).map(formatProblem).join("; ") +
        (loaded.problems.length > 5 ? `; and ${loaded.problems.length - 5} more` : "");
      await putStatus(SOURCE_KEY, (p) => ({
        ...(loaded.revision ? { observedRevision: loaded.revision } : {}),
        conditions: withConditions(
          p.conditions,
          { type: "Stalled", status: "True", reason: "InvalidDesiredState", message },
          {
            type: "Ready",
            status: "False",
            reason: "InvalidDesiredState",
            message: "the host keeps running the last applied desired state",
          },
        ),
      }));
      logger.error(
        { revision: loaded.revision, problems: loaded.problems.length, first: message },
        "desired state invalid, host left as it was",
      );
      throw new TerminalError("InvalidDesiredState", message);
    }
    const state = loaded.state;
    const selection = selectMachine(state, {
      ...(config.machine ? { flag: config.machine } : {}),
      ...(policy.machine ? { policy: policy.machine } : {}),
      hostname: hostname(),
    });
    if (!selection.ok) {
      await putStatus(SOURCE_KEY, (p) => ({
        observedRevision: state.revision,
        conditions: withConditions(p.conditions, {
          type: "Stalled",
          status: "True",
          reason: "MachineNotSelected",
          message: selection.message,
        }),
      }));
      throw new TerminalError("MachineNotSelected", selection.message);
    }
    const denials = await checkHostPolicy(policy, state, selection.machine, { engine });
    if (denials.fleet.length > 0) {
      const message = summarizeProblems(denials.fleet, 5);
      await putStatus(SOURCE_KEY, (p) => ({
        observedRevision: state.revision,
        conditions: withConditions(
          p.conditions,
          { type: "Stalled", status: "True", reason: "PolicyDenied", message },
          { type: "Ready", status: "False", reason: "PolicyDenied", message: "the host keeps running the last applied desired state" },
        ),
      }));
      logger.error(
        { revision: state.revision, violations: denials.fleet.length, first: message },
        "desired state refused by the host policy, host left as it was",
      );
      throw new TerminalError("PolicyDenied", message);
    }
    current = { state, machine: selection.machine, denied: denials.stacks };
    scheduleResync(state.resyncSeconds);
    pruneScheduler.apply(effectivePruneSpec(state, selection.machine).schedule);
    await putStatus(SOURCE_KEY, (p) => ({
      observedRevision: state.revision,
      conditions: withConditions(
        p.conditions,
        { type: "Stalled", status: "False", reason: "Valid", message: "" },
        { type: "Reconciling", status: "True", reason: "Progressing", message: `applying ${state.revision}` },
      ),
    }));
    logger.info({ revision: state.revision, machine: selection.machine }, "desired state loaded");
    queue.add(IMAGES_KEY);
  }

  async function reconcileImages(signal: AbortSignal): Promise<void> {
    if (!current) return;
    const { state, machine, denied } = current;
    passStarted = clock.now();
    passOk = true;
    emptyRefused = undefined;
    const observed = await engine.observe(signal);
    metrics.setObserved(observed);
    const result = await images.reconcile(admittedState(state, denied), machine, { observed, signal });
    imageTags = Object.fromEntries(result.tags);
    imageHolds = Object.fromEntries(result.holds);
    imageResolver = newImageResolver(machine);
    imagesRevision = state.revision;
    passOk = result.ok;
    imagesOk = result.ok;
    const { names, refused } = await stacksToReconcile({ state, machine, store, logger });
    pending = new Set(names);
    for (const name of names) queue.add(`${STACK_PREFIX}${name}`);
    if (names.length === 0) {
      if (refused.length > 0)
        emptyRefused = `the desired state has no stacks; keeping ${refused.join(", ")} (set allowEmpty: true in berth.yaml to remove everything)`;
      await completePass();
    }
  }

  function stackContext({ state, machine, denied }: Current): StackContext {
    return {
      engine,
      compose,
      store,
      lock,
      clock,
      logger: logger.child({ reconciler: "stacks" }),
      events: metrics.events,
      ops,
      machine,
      profile: profileOf(state, machine),
      state,
      imageTags,
      denied,
      imageHolds,
      ...(imageResolver ? { imageResolver } : {}),
      admit: async (service) => (service.gpu ? metrics.admitGpu(service.gpu) : { ok: true }),
    };
  }

  async function reconcileStackKey(name: string): Promise<{ requeueAfterMs?: number } | void> {
    if (!current || imagesRevision !== current.state.revision) return; // images first; the images key re-adds stacks
    const context = stackContext(current);
    const result = await reconcileStack(name, context);
    if (!result.ready) passOk = false;
    if (pending.delete(name) && pending.size === 0) await completePass();
    else if (pending.size === 0) await followStacks();
    // What failed for the engine's or compose's sake (a drifted container not restored, a first
    // start compose could not carry out) is retried with the queue's backoff; a failed rollout is
    // held until the desired state changes.
    const retryable = result.services.filter((s) => s.retry);
    if (retryable.length > 0) throw new Error(retryable.map((s) => `${name}/${s.service}: ${s.message}`).join("; "));
    // A service waiting for VRAM is looked at again soon; everything else waits for a change.
    const waiting = result.services.some((s) => s.reason === "InsufficientVRAM");
    return waiting ? { requeueAfterMs: 30_000 } : undefined;
  }

  async function completePass(): Promise<void> {
    if (!current) return;
    const { state } = current;
    ready = true;
    if (emptyRefused) passOk = false;
    metrics.events.reconciled("pass", passOk ? "success" : "failure", (clock.now() - passStarted) / 1000);
    await putStatus(SOURCE_KEY, (p) => ({
      ...(passOk ? { lastAppliedRevision: state.revision } : {}),
      conditions: withConditions(
        p.conditions,
        { type: "Reconciling", status: "False", reason: "PassComplete", message: "" },
        emptyRefused
          ? { type: "Ready", status: "False", reason: "EmptyDesiredStateRefused", message: emptyRefused }
          : hostReady(state, passOk),
        { type: "Degraded", status: "False", reason: "Fine", message: "" },
      ),
    }));
    logger.info({ revision: state.revision, ok: passOk, seconds: (clock.now() - passStarted) / 1000 }, "pass complete");
  }

  function hostReady(state: DesiredState, ready: boolean): Omit<Condition, "lastTransitionTime"> {
    return ready
      ? { type: "Ready", status: "True", reason: "Applied", message: `revision ${state.revision} applied` }
      : {
          type: "Ready",
          status: "False",
          reason: "ResourcesNotReady",
          message: "some images or services are not ready; see their conditions",
        };
  }

  /**
   * A stack reconciled between passes (a docker event: a service turned healthy, or died and could
   * not be restored): the host's Ready follows its stacks without waiting for the next pass.
   */
  async function followStacks(): Promise<void> {
    if (!current || imagesRevision !== current.state.revision || emptyRefused) return;
    const { state, machine } = current;
    const ready = getCondition(store.get(SOURCE_KEY)?.conditions ?? [], "Ready");
    if (ready?.reason !== "Applied" && ready?.reason !== "ResourcesNotReady") return;
    const allReady =
      imagesOk &&
      forMachine(state, machine).stacks.every(
        (s) => getCondition(store.get(stackKey(s.name))?.conditions ?? [], "Ready")?.status === "True",
      );
    if ((ready.status === "True") === allReady) return;
    await putStatus(SOURCE_KEY, (p) => ({
      ...(allReady ? { lastAppliedRevision: state.revision } : {}),
      conditions: withConditions(p.conditions, hostReady(state, allReady)),
    }));
    logger.info({ revision: state.revision, ready: allReady }, "host readiness changed");
  }

  async function reconcilePrune(signal: AbortSignal): Promise<void> {
    if (!current) return;
    const report = await runPrune(
      { engine, store, lock, logger: logger.child({ reconciler: "prune" }), events: metrics.events, clock },
      { state: current.state, machine: current.machine, dryRun: false, signal },
    );
    logger.info(
      { removedImages: report.removedImages, reclaimedBytes: report.reclaimedBytes, kept: report.kept.length, failed: report.failed },
      "prune complete",
    );
  }

  const queue = createWorkQueue(
    async (key, signal) => {
      if (key === GIT_KEY) return reconcileGit();
      if (key === SOURCE_KEY) return reconcileSource();
      if (key === IMAGES_KEY) return reconcileImages(signal);
      if (key === PRUNE_KEY) return reconcilePrune(signal);
      if (key.startsWith(STACK_PREFIX)) return reconcileStackKey(key.slice(STACK_PREFIX.length));
      logger.warn({ key }, "unknown work key dropped");
    },
    {
      clock,
      concurrency: config.stackConcurrency + 1,
      classOf: (key) => (key.startsWith(STACK_PREFIX) ? "stacks" : key),
      classLimits: { stacks: config.stackConcurrency },
      onError: (key, error, retryInMs) => {
        const message = error instanceof Error ? error.message : String(error);
        if (retryInMs === undefined) logger.error({ key, err: message }, "reconcile stopped until the desired state changes");
        else logger.warn({ key, err: message, retryInMs }, "reconcile failed, retrying");
        if (key.startsWith(STACK_PREFIX) || key === IMAGES_KEY) passOk = false;
      },
    },
  );

  const pruneScheduler = createPruneScheduler({ run: async () => queue.add(PRUNE_KEY), logger: logger.child({ source: "cron" }) });

  // Sources: each only enqueues keys.
  const stops: Array<() => Promise<void> | void> = [];
  if (!config.once) {
    const events = watchDockerEvents({
      engine,
      clock,
      logger: logger.child({ source: "docker-events" }),
      onStackEvent: (stack) => {
        if (!current || imagesRevision !== current.state.revision) return;
        // Only stacks this agent runs or ran: another agent's containers on a shared engine are not ours.
        const ours =
          store.get(stackKey(stack)) !== undefined || forMachine(current.state, current.machine).stacks.some((s) => s.name === stack);
        if (ours) queue.add(`${STACK_PREFIX}${stack}`);
      },
      onReconnect: () => {
        void lookAtEngine();
        queue.add(SOURCE_KEY);
      },
      onEvent: (event) => metrics.engineEvent(event),
    });
    stops.push(() => events.stop());
    stops.push(() => resync?.stop());
    if (gitSync) {
      const fetch = everyInterval(config.fetchIntervalSeconds, () => queue.add(GIT_KEY));
      stops.push(() => fetch.stop());
    } else if (config.desiredState) {
      const watcher = watchDesiredState(config.desiredState, () => queue.add(SOURCE_KEY), { logger: logger.child({ source: "watch" }) });
      stops.push(() => watcher.close());
    }
  }
  stops.push(() => pruneScheduler.stop());

  const http = config.once
    ? undefined
    : await startHttpServer(
        {
          metrics: () => renderExposition(registry),
          ready: () => ready,
          status: async () => {
            await refreshContainers();
            return statusView();
          },
          reconcile: requestPass,
          rollback: async ({ stack, service, to }) => {
            const result = await pinServiceRollback(store, { stack, service, to: to ?? 1, now: clock.now() });
            if (result.ok) queue.add(`${STACK_PREFIX}${stack}`);
            return result;
          },
          retry: async ({ stack, service }) => {
            const result = await retryService(store, { stack, service });
            // A fresh resolver: the pass's may remember a pull of this very reference.
            if (result.ok && current) imageResolver = newImageResolver(current.machine);
            if (result.ok) queue.add(`${STACK_PREFIX}${stack}`);
            return result;
          },
          gitWebhook: () => queue.add(gitSync ? GIT_KEY : SOURCE_KEY),
        },
        {
          host: config.listen.slice(0, config.listen.lastIndexOf(":")),
          port: Number(config.listen.slice(config.listen.lastIndexOf(":") + 1)),
          ...(webhookSecret ? { webhookSecret } : {}),
          ...(apiToken ? { apiToken } : {}),
          protectStatus: config.protectStatus,
        },
      );
  if (http) logger.info({ address: http.address }, "http listening");

  let cachedContainers: Awaited<ReturnType<DockerEngine["listContainers"]>> = [];
  function statusView() {
    return buildStatusView({
      machine: current?.machine ?? config.machine ?? "unknown",
      ready,
      statuses: store.all(),
      containers: cachedContainers,
      engine: engineView,
    });
  }
  const refreshContainers = async () => {
    cachedContainers = await engine.listContainers({ label: [`${LABELS.managed}=true`] }).catch(() => cachedContainers);
  };

  let stopping: Promise<void> | undefined;
  let onceResult = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info({}, "shutting down");
      for (const s of stops) await s();
      const { interrupted } = await queue.shutdown(25_000);
      if (interrupted.length > 0) logger.warn({ interrupted }, "work interrupted at shutdown; intents finish it on restart");
      await http?.close();
      resolveDone(onceResult);
    })();
    return stopping;
  }

  scheduleResync(DEFAULT_RESYNC_SECONDS);
  queue.add(gitSync ? GIT_KEY : SOURCE_KEY);
  if (config.once) {
    void (async () => {
      await queue.idle(1000);
      const applied = store.get(SOURCE_KEY)?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
      onceResult = ready && applied ? 0 : 1; // before stop(): stop() resolves `done` with it
      await stop();
    })();
  }

  return {
    done,
    ...(http ? { address: http.address } : {}),
    stop,
    idle: () => queue.idle(1000),
    async statusView() {
      await refreshContainers();
      return statusView();
    },
    store,
  };
}
