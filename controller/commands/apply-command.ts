// `berth apply DIR --machine NAME`: one full reconcile pass in the foreground (images, then stacks)
// through the reconcilers the agent runs, holding the host lock shared from the first build to the
// last swap, with progress; exit 0 when every resource is Ready, 1 with a summary otherwise.
import { createScanGate } from "../../reconcilers/images/scan-gate.ts";
import { createVulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import { profileOf } from "../../desired-state/desired-state.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { systemClock } from "../../platform/clock.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import { createLogger, logFormat } from "../../platform/logger.ts";
import { describeEngine } from "../../platform/engine-selection.ts";
import type { EngineSelection } from "../../platform/engine-selection.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Observed } from "../../platform/observed.ts";
import type { ProgressSink } from "../../status/progress-events.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import type { SharedHostLock } from "../../status/shared-host-lock.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { ImageHold } from "../../reconcilers/images/image-hold.ts";
import { createImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import { createContainerOps } from "../../reconcilers/stacks/container-ops.ts";
import type { StackContext } from "../../reconcilers/stacks/stack-context.ts";
import { createNvidiaSmiReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import { reconcileStacks } from "../../reconcilers/stacks/stack-reconciler.ts";
import type { StackResult } from "../../reconcilers/stacks/stack-reconciler.ts";
import { boolFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliHostLock, exitsWhenLockBusy, LOCK_WAIT_USAGE } from "../cli-host-lock.ts";
import { cliEngine, loadWithMachine } from "../load-for-cli.ts";
import { createProgressWriter } from "../progress-writer.ts";

export type ImagesStepInput = {
  state: DesiredState;
  machine: string;
  engine: DockerEngine;
  selection: EngineSelection;
  store: StatusStore;
  lock: SharedHostLock;
  logger: Logger;
  observed: Observed;
  progress: ProgressSink;
};

/** The images half of a pass: berth image name → exact local tag, rollouts held by budgets, and whether every image is ready. */
export type ImagesStep = (input: ImagesStepInput) => Promise<{
  ok: boolean;
  tags: Record<string, string>;
  holds: Record<string, ImageHold>;
  failures: string[];
  /** The engine's images are as `observed` saw them (nothing built, pulled or tagged): the stacks step does not look again. */
  engineUntouched: boolean;
}>;

export type ApplyDeps = {
  resolveImages: ImagesStep;
  engine: (selection: EngineSelection) => DockerEngine;
  /** Extra context for the stacks step (tests: a faster health poll, an admission hook). */
  stackContext?: Partial<StackContext>;
};

/**
 * INTEGRATION POINT (lead): the images step runs the images reconciler exactly as the agent's
 * pass does (same store, same tags). Replace or wrap it here when apply talks to a running agent.
 */
export const imagesReconcilerStep: ImagesStep = async ({ state, machine, engine, selection, store, lock, logger, observed, progress }) => {
  const result = await createImagesReconciler({ engine, dockerEnv: selection.childEnv, store, lock, logger }).reconcile(state, machine, {
    observed,
    progress,
  });
  return {
    ok: result.ok,
    tags: Object.fromEntries(result.tags),
    holds: Object.fromEntries(result.holds),
    failures: result.outcomes.filter((o) => !o.ok).map((o) => `image ${o.name}: ${o.reason}: ${o.message.split("\n")[0] ?? ""}`),
    engineUntouched: result.engineUntouched,
  };
};

export function createApplyCommand(overrides: Partial<ApplyDeps> = {}): CommandSpec {
  const deps: ApplyDeps = { resolveImages: imagesReconcilerStep, engine: (selection) => createDockerEngine(selection), ...overrides };
  const spec: CommandSpec = {
    name: "apply",
    usage: [
      "Usage: berth apply DIR --machine NAME [--state-dir DIR] [--policy FILE] [--wait SECONDS] [--json] [--quiet]",
      "",
      "Builds or pulls the images MACHINE needs, then reconciles every stack: health-gated swaps,",
      "automatic rollback, drift repair, opt-in pruning. Exit 0 when every image and service is",
      "Ready; exit 1 with a summary otherwise (a rollback is a failure). State dir defaults to",
      "BERTH_STATE_DIR or /var/lib/berth, the agent's. The host policy (--policy, default",
      "/etc/berth/policy.yaml when it exists, else level baseline) refuses a stack that breaks it:",
      "the stack is left as it runs, Stalled/PolicyDenied, and the exit code is 1. On a terminal,",
      "progress is shown live per image and service; --quiet prints only the result.",
      LOCK_WAIT_USAGE,
    ].join("\n"),
    options: {
      machine: { type: "string", short: "m" },
      "state-dir": { type: "string" },
      policy: { type: "string" },
      wait: { type: "string" },
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
    },
    async run(args, io) {
      const loaded = await loadWithMachine(args, io, spec.usage);
      if (!loaded.ok) return loaded.code;
      const { state, machine } = loaded;
      const json = boolFlag(args, "json");
      const writer = createProgressWriter(
        { write: io.stdout, tty: io.tty === true, ...(io.columns ? { columns: io.columns } : {}) },
        { quiet: json || boolFlag(args, "quiet") },
      );
      const progress = writer.sink;
      const stateDir = stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth";
      const lock = cliHostLock("apply", stateDir, args, io);
      if (!lock) return 2;
      const store = await openStatusStore(stateDir);
      const logger = createLogger({
        level: io.env["BERTH_LOG_LEVEL"] ?? "warn",
        format: logFormat(io.env, writer.logs ? true : undefined),
        ...(writer.logs ? { destination: writer.logs } : {}),
      });
      const selection = cliEngine(io);
      const engine = deps.engine(selection);
      writer.line(`berth apply: revision ${state.revision}, machine ${machine}, engine ${describeEngine(selection)}`);
      const stacksStep = (images: Awaited<ReturnType<ImagesStep>>, observed: Observed): Promise<StackResult[]> =>
        reconcileStacks({
          // One engine look serves both steps unless the images step changed the engine's images.
          ...(images.engineUntouched ? { observed } : {}),
          engine,
          compose: createComposeCli({ env: selection.childEnv }),
          store,
          lock,
          clock: systemClock,
          logger,
          events: noEvents,
          ops: createContainerOps({ env: selection.childEnv }),
          machine,
          profile: profileOf(state, machine),
          state,
          imageTags: images.tags,
          imageHolds: images.holds,
          // Third-party images are scanned with the scanner the engine selection's children see, as built ones.
          scanGate: createScanGate({
            scanner: createVulnerabilityScanner({ env: selection.childEnv }),
            stateDir: store.dir,
            now: () => new Date(),
            logger,
          }),
          progress,
          denied: loaded.denied,
          // The VRAM guard of GPU services' monitor windows reads nvidia-smi, as under the agent.
          gpu: createNvidiaSmiReader({ onProblem: (message) => logger.info({ detail: message }, "gpu metrics unavailable") }),
          ...deps.stackContext,
        });
      // One shared hold from the first build to the last swap: a prune waiting for the lock cannot run between the two.
      const [images, stacks] = await lock
        .shared(`apply machine ${machine}`, async () => {
          const observed = await engine.observe();
          const images = await deps.resolveImages({ state, machine, engine, selection, store, lock, logger, observed, progress });
          return [images, await stacksStep(images, observed)] as const;
        })
        .finally(() => writer.close());
      const failures = [...images.failures, ...stackFailures(stacks)];
      const ok = images.ok && stacks.every((s) => s.ready);
      if (json) {
        const report = { machine, revision: state.revision, ok, images: { ok: images.ok, failures: images.failures }, stacks };
        io.stdout(`${JSON.stringify(report, null, 2)}\n`);
        return ok ? 0 : 1;
      }
      if (!boolFlag(args, "quiet"))
        for (const stack of stacks) if (stack.message) io.stdout(`${stack.ready ? "✓" : "✗"} stack ${stack.stack}: ${stack.message}\n`);
      const services = stacks.reduce((n, s) => n + s.services.length, 0);
      const changed = stacks.reduce((n, s) => n + s.changed, 0);
      if (ok) {
        io.stdout(`${machine}: Ready (${stacks.length} stacks, ${services} services, ${changed} changed)\n`);
        return 0;
      }
      io.stderr(
        `${machine}: not Ready, ${failures.length} ` +
          `problem${failures.length === 1 ? "" : "s"}:\n${failures.map((f) => `  ${f}`).join("\n")}\n`,
      );
      return 1;
    },
  };
  return exitsWhenLockBusy(spec);
}

function stackFailures(stacks: readonly StackResult[]): string[] {
  return stacks.flatMap((stack) => [
    ...stack.services.filter((s) => !s.ready).map((s) => `${stack.stack}/${s.service}: ${s.reason}: ${s.message}`),
    ...(!stack.ready && stack.services.length === 0 && stack.message ? [`${stack.stack}: ${stack.message}`] : []),
  ]);
}

export const applyCommand: CommandSpec = createApplyCommand();
