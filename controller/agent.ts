// The agent, berth's composition root: creates the ports (engine, compose, store, host lock,
// metrics), the reconciler map, the work queue that dispatches to it, the event sources that fill
// it, and the HTTP side. Pass state lives in reconcilers/source/ (PassState, Pass), not here.
import { readFile } from "node:fs/promises";
import { Registry } from "prom-client";
import { DEFAULT_RESYNC_SECONDS } from "../desired-state/desired-state.ts";
import { formatProblem } from "../desired-state/problem.ts";
import { createBerthMetrics } from "../metrics/berth-metrics.ts";
import { createNvidiaSmiReader } from "../metrics/gpu/nvidia-smi-reader.ts";
import { systemClock } from "../platform/clock.ts";
import type { Clock } from "../platform/clock.ts";
import { createComposeCli } from "../platform/compose-cli.ts";
import type { ComposeCli } from "../platform/compose-cli.ts";
import { createDockerEngine } from "../platform/docker-engine.ts";
import type { DockerEngine, EngineEvent } from "../platform/docker-engine.ts";
import { processEngineSelection } from "../platform/engine-selection.ts";
import type { EngineSelection } from "../platform/engine-selection.ts";
import { createLogger } from "../platform/logger.ts";
import type { Logger } from "../platform/logger.ts";
import { loadPolicy } from "../policy/load-policy.ts";
import { effectivePruneSpec } from "../reconcilers/prune/prune-reconciler.ts";
import { createPruneScheduler } from "../reconcilers/prune/prune-schedule.ts";
import type { WorkKey } from "../reconcilers/reconciler.ts";
import { createPassState } from "../reconcilers/source/pass-state.ts";
import type { Desired } from "../reconcilers/source/pass-state.ts";
import { SOURCE_STATUS_KEY } from "../reconcilers/source/source-status.ts";
import { isTrue } from "../status/conditions.ts";
import { formatKey } from "../status/resource-key.ts";
import { openSharedHostLock } from "../status/shared-host-lock.ts";
import { openStatusStore } from "../status/status-store.ts";
import type { StatusStore } from "../status/status-store.ts";
import type { AgentConfig } from "./agent-config.ts";
import { gitSyncFor } from "./agent-git-sync.ts";
import { agentStatusView, startAgentHttp } from "./agent-http.ts";
import { createAgentReconcilers } from "./agent-reconcilers.ts";
import { startAgentSources } from "./agent-sources.ts";
import { createEngineLook } from "./engine-look.ts";
import type { StatusView } from "./status-view.ts";
import { createWorkQueue } from "./work-queue.ts";

/** `selection`: the one engine every part drives (API client, compose, buildx, docker CLI, metrics); default: the process environment's. */
export type AgentDeps = { selection?: EngineSelection; engine?: DockerEngine; compose?: ComposeCli; clock?: Clock; logger?: Logger };

export type Agent = {
  /** Resolves when the agent has stopped (SIGTERM, stop(), or the end of --once). */
  done: Promise<number>;
  address?: string;
  stop(): Promise<void>;
  /** Waits until no work is queued or running (tests and --once). */
  idle(): Promise<void>;
  statusView(): Promise<StatusView>;
  store: StatusStore;
};

export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<Agent> {
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const policyLoad = await loadPolicy(config.policy);
  if (!policyLoad.ok) throw new Error(`host policy not valid: ${policyLoad.problems.map(formatProblem).join("; ")}`);
  logger.info({ file: policyLoad.file ?? "(none)", level: policyLoad.policy.level }, "host policy loaded");
  const clock = deps.clock ?? systemClock;
  const selection = deps.selection ?? processEngineSelection();
  const engine = deps.engine ?? createDockerEngine(selection);
  const compose = deps.compose ?? createComposeCli({ env: selection.childEnv });
  const store = await openStatusStore(config.stateDir);
  for (const problem of store.loadProblems) logger.warn({ problem }, "unreadable state file skipped");
  const lock = openSharedHostLock(config.stateDir, { onWait: (holder) => logger.info({ holder }, "waiting for the host lock") });
  const registry = new Registry();
  const gpu = createNvidiaSmiReader({ onProblem: (message) => logger.info({ detail: message }, "gpu metrics unavailable") });
  const metrics = createBerthMetrics({ registry, store, engine, gpu, machine: config.machine ?? "unknown" });
  const engineLook = createEngineLook(engine, selection, logger);
  void engineLook.look();
  const secret = async (file: string | undefined) => (file ? (await readFile(file, "utf8")).trim() : undefined);
  const [apiToken, webhookSecret] = [await secret(config.apiTokenFile), await secret(config.webhookSecretFile)];

  const state = createPassState();
  const enqueue = (key: WorkKey): void => queue.add(key);
  const ports = { config, policy: policyLoad.policy, selection, engine, compose, store, lock, clock, logger, metrics, gpu };
  const onAdmit = (desired: Desired): void => {
    sources.resync(desired.state.resyncSeconds);
    pruneScheduler.apply(effectivePruneSpec(desired.state, desired.machine).schedule);
  };
  const { reconcilers, git, newResolver } = createAgentReconcilers(
    { ...ports, gitSync: gitSyncFor(config, logger) },
    { state, enqueue, onAdmit },
  );
  const requestPass = (): void => (git ? git.requestPass() : enqueue({ kind: "source" }));
  const queue = createWorkQueue(reconcilers, {
    clock,
    concurrency: config.stackConcurrency + 1,
    classLimits: { stack: config.stackConcurrency },
    onError: (key, failure, retryInMs) => {
      const fields = { key: formatKey(key), err: failure.message };
      if (retryInMs === undefined) logger.error(fields, "reconcile stopped until the desired state changes");
      else logger.warn({ ...fields, retryInMs }, "reconcile failed, retrying");
    },
  });
  const pruneScheduler = createPruneScheduler({ run: async () => enqueue({ kind: "prune" }), logger: logger.child({ source: "cron" }) });
  const wiring = { config, engine, clock, logger, store, state, enqueue, requestPass, git: git !== undefined };
  const onEngineEvent = (event: EngineEvent): void => metrics.engineEvent(event);
  const sources = startAgentSources({ ...wiring, onReconnect: () => void engineLook.look(), onEngineEvent });
  const view = agentStatusView({ ...wiring, engineView: engineLook.view });
  const secrets = { ...(apiToken ? { apiToken } : {}), ...(webhookSecret ? { webhookSecret } : {}) };
  const http = config.once ? undefined : await startAgentHttp({ ...wiring, registry, view, secrets, newResolver });
  if (http) logger.info({ address: http.address }, "http listening");

  let stopping: Promise<void> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  function stop(code = 0): Promise<void> {
    stopping ??= (async () => {
      logger.info({}, "shutting down");
      await sources.stop();
      pruneScheduler.stop();
      const { interrupted } = await queue.shutdown(25_000);
      if (interrupted.length > 0) logger.warn({ interrupted }, "work interrupted at shutdown; intents finish it on restart");
      await http?.close();
      resolveDone(code);
    })();
    return stopping;
  }

  sources.resync(DEFAULT_RESYNC_SECONDS);
  enqueue({ kind: git ? "git" : "source" });
  // --once: exit 0 when a pass completed and left the host Ready.
  const appliedOnce = () => state.passes.completedOnce() && isTrue(store.get(SOURCE_STATUS_KEY)?.conditions ?? [], "Ready");
  if (config.once) void queue.idle(1000).then(() => stop(appliedOnce() ? 0 : 1));
  return {
    done,
    ...(http ? { address: http.address } : {}),
    stop: () => stop(),
    idle: () => queue.idle(1000),
    statusView: view.statusView,
    store,
  };
}
