// The agent's reconciler map: one reconciler per work kind over the process's ports (engine,
// compose, store, host lock, metrics), sharing one PassState; the work queue dispatches through it.
import type { GitSync } from "../desired-state/git-sync.ts";
import type { Desired, PassState } from "../reconcilers/source/pass-state.ts";
import { createComposeNormalizer } from "../desired-state/normalize-compose.ts";
import type { BerthMetrics } from "../metrics/berth-metrics.ts";
import type { EngineSelection } from "../platform/engine-selection.ts";
import type { Policy } from "../policy/policy-schema.ts";
import { createGitReconciler } from "../reconcilers/git/git-reconciler.ts";
import type { GitReconciler } from "../reconcilers/git/git-reconciler.ts";
import { createImagesKeyReconciler } from "../reconcilers/images/images-key-reconciler.ts";
import { createImagesReconciler } from "../reconcilers/images/images-reconciler.ts";
import { createScanGate } from "../reconcilers/images/scan-gate.ts";
import { createVulnerabilityScanner } from "../platform/vulnerability-scanner.ts";
import { createPruneKeyReconciler } from "../reconcilers/prune/prune-key-reconciler.ts";
import { done } from "../reconcilers/reconciler.ts";
import type { ReconcilerMap, WorkKey } from "../reconcilers/reconciler.ts";
import { createSourceReconciler } from "../reconcilers/source/source-reconciler.ts";
import { createContainerOps } from "../reconcilers/stacks/container-ops.ts";
import { createStackKeyReconciler } from "../reconcilers/stacks/stack-key-reconciler.ts";
import { createStackLocks } from "../reconcilers/stacks/stack-lock.ts";
import { createImageResolver } from "../reconcilers/stacks/third-party-images.ts";
import type { ImageResolver } from "../reconcilers/stacks/third-party-images.ts";
import type { StackContext } from "../reconcilers/stacks/stack-context.ts";
import type { AgentConfig } from "./agent-config.ts";
import { composeCacheDir } from "./load-for-cli.ts";

/** The stack reconciler's ports (engine, compose, store, lock, clock, logger, the VRAM guard's nvidia-smi) and the agent's own. */
export type AgentPorts = Pick<StackContext, "engine" | "compose" | "store" | "lock" | "clock" | "logger" | "gpu"> & {
  config: AgentConfig;
  policy: Policy;
  selection: EngineSelection;
  metrics: BerthMetrics;
  gitSync: GitSync | undefined;
};

export type AgentReconcilers = {
  reconcilers: ReconcilerMap;
  /** Present with --repo. */
  git: GitReconciler | undefined;
  /** A fresh resolver of images berth does not build (each pass, and after `berth retry`). */
  newResolver: (machine: string) => ImageResolver;
};

export function createAgentReconcilers(
  ports: AgentPorts,
  wiring: { state: PassState; enqueue: (key: WorkKey) => void; onAdmit: (desired: Desired) => void },
): AgentReconcilers {
  const { config, selection, engine, compose, store, lock, clock, logger, metrics, gitSync } = ports;
  const { state, enqueue } = wiring;
  const passDeps = { store, clock, logger, events: metrics.events, state };
  const newResolver = (machine: string): ImageResolver =>
    createImageResolver({
      machine,
      logger: logger.child({ reconciler: "stacks" }),
      events: metrics.events,
      engine,
      dockerEnv: selection.childEnv,
    });
  const git =
    gitSync &&
    createGitReconciler({
      gitSync,
      verifyCommits: config.verifyCommits !== undefined,
      store,
      clock,
      enqueue,
      loaded: () => !!state.desired,
    });
  // One vulnerability gate (scan cache, database version) for built images and third-party ones.
  const scanGate = createScanGate({
    scanner: createVulnerabilityScanner({ env: selection.childEnv }),
    stateDir: store.dir,
    now: () => new Date(clock.now()),
    logger: logger.child({ reconciler: "scan" }),
  });
  const images = createImagesReconciler({
    engine,
    dockerEnv: selection.childEnv,
    store,
    lock,
    logger: logger.child({ reconciler: "images" }),
    events: metrics.events,
    scanGate,
  });
  const reconcilers: ReconcilerMap = {
    git: git ?? { reconcile: async () => done() },
    source: createSourceReconciler({
      ...passDeps,
      published: gitSync ? gitSync.currentPath : (config.desiredState ?? ""),
      git: gitSync !== undefined,
      blocked: () => git?.blocked(),
      normalizer: createComposeNormalizer(compose, { cacheDir: composeCacheDir(config.stateDir) }),
      policy: ports.policy,
      ...(config.machine ? { machine: config.machine } : {}),
      engine,
      onLoad: (loaded) => metrics.setDesiredState(loaded),
      onAdmit: wiring.onAdmit,
      enqueue,
    }),
    images: createImagesKeyReconciler({ ...passDeps, images, engine, onObserved: (o) => metrics.setObserved(o), newResolver, enqueue }),
    stack: createStackKeyReconciler({
      ...passDeps,
      locks: createStackLocks(),
      ports: {
        engine,
        compose,
        store,
        lock,
        clock,
        logger: logger.child({ reconciler: "stacks" }),
        events: metrics.events,
        ops: createContainerOps({ env: selection.childEnv }),
        admit: async (service) => (service.gpu ? metrics.admitGpu(service.gpu) : { ok: true }),
        ...(ports.gpu ? { gpu: ports.gpu } : {}),
        scanGate,
      },
    }),
    prune: createPruneKeyReconciler({
      prune: { engine, store, lock, logger: logger.child({ reconciler: "prune" }), events: metrics.events, clock },
      state,
      logger,
    }),
  };
  return { reconcilers, git, newResolver };
}
