// Shared harness of the stacks e2e tests: unique names, busybox httpd test images with real
// HEALTHCHECKs, stack specs normalised by `docker compose config`, a reconcile context, cleanup.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import type { DesiredState, RolloutSpec, ServiceSpec, StackSpec } from "../../desired-state/desired-state.ts";
import { systemClock } from "../../platform/clock.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { silentLogger } from "../../platform/logger.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import type { ReconcileEvents } from "../../status/reconcile-events.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { expectStatusInvariants, invariantCheckedStore } from "./status-invariants.ts";
import { createContainerOps } from "../../reconcilers/stacks/container-ops.ts";
import type { StackContext } from "../../reconcilers/stacks/stack-context.ts";
import { ensureBusyboxImage } from "./busybox-image.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";

const execFileP = promisify(execFile);

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("docker", args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Service name → full id of its running container, for one compose project. */
export async function serviceContainerIds(project: string): Promise<Record<string, string>> {
  const out = await docker(
    "ps",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--format",
    '{{.ID}} {{.Label "com.docker.compose.service"}}',
  );
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" "))
      .map(([id, svc]) => [svc ?? "", id ?? ""]),
  );
}

export type VersionOptions = {
  healthy?: boolean;
  startDelaySeconds?: number;
  healthcheck?: boolean;
  /** Slower, more tolerant checks for many containers starting at once on a small machine. */
  lenient?: boolean;
  /** Checks as production services set them: every 30 s, and every 1 s during a 20 s start period. */
  productionInterval?: boolean;
  /** Healthy at first, then the health endpoint disappears after this many seconds. */
  unhealthyAfterSeconds?: number;
};

export type ServiceInput = {
  image: string;
  rollout?: Partial<RolloutSpec>;
  selfHeal?: boolean;
  dependsOn?: string[];
  compose?: Record<string, unknown>;
};

export type Harness = {
  prefix: string;
  dir: string;
  stateDir: string;
  engine: ReturnType<typeof createDockerEngine>;
  compose: ReturnType<typeof createComposeCli>;
  /** Builds `<prefix>/web:<version>`: busybox httpd on 8080 serving the version, healthy or not. */
  buildVersion(version: string, options?: VersionOptions): Promise<string>;
  stack(name: string, services: Record<string, ServiceInput>, options?: { prune?: boolean }): Promise<StackSpec>;
  context(stacks: StackSpec[], extra?: Partial<StackContext>): Promise<StackContext>;
  imageId(ref: string): Promise<string>;
  /** Containers of a compose project as {name, imageId, state, health}. */
  containers(project: string): Promise<{ id: string; name: string; service: string; imageId: string; state: string; status: string }[]>;
  cleanup(): Promise<void>;
};

export const FAST_ROLLOUT: RolloutSpec = { ...DEFAULT_ROLLOUT, healthTimeoutSeconds: 20, monitorSeconds: 1 };

/** The context the stacks tests reconcile with, also in the crash test's child process. */
export async function stacksTestContext(
  parts: Pick<StackContext, "engine" | "compose" | "lock"> & { stateDir: string; violations?: string[] },
  state: DesiredState,
  extra: Partial<StackContext> = {},
): Promise<StackContext> {
  const store = await openStatusStore(parts.stateDir);
  return {
    engine: parts.engine,
    compose: parts.compose,
    // With `violations`, every record written is checked against the status invariants (status-invariants.ts).
    store: parts.violations ? invariantCheckedStore(store, parts.violations) : store,
    lock: parts.lock,
    clock: systemClock,
    logger: silentLogger(),
    events: noEvents,
    ops: createContainerOps(),
    machine: "test",
    profile: {},
    state,
    imageTags: {},
    pollMs: 250,
    noHealthcheckRunSeconds: 1,
    ...extra,
  };
}

export async function createHarness(label: string): Promise<Harness> {
  await ensureBusyboxImage();
  const prefix = `berth-t-${label}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const stateDir = join(dir, "state");
  const lock = openSharedHostLock(stateDir);
  const engine = createDockerEngine();
  const compose = createComposeCli({ defaultTimeoutMs: 120_000 });
  const tags: string[] = [];
  const projects = new Set<string>();
  /** Status invariants broken by a record a reconcile wrote (the store throws too); cleanup fails on any. */
  const violations: string[] = [];

  async function buildVersion(version: string, options: VersionOptions = {}): Promise<string> {
    const tag = `${prefix}/web:${version}`;
    const context = join(dir, `build-${version}`);
    // COPY, not RUN: a RUN step needs the engine's default bridge, which a second dockerd on the
    // same host (started with --bridge=none) deletes.
    await execFileP("mkdir", ["-p", join(context, "www")]);
    await writeFile(join(context, "www", "index.html"), `${version}\n`);
    if (options.healthy !== false) await writeFile(join(context, "www", "health"), "ok\n");
    const delay = options.startDelaySeconds ?? 0;
    const timing = options.productionInterval
      ? "--interval=30s --timeout=5s --retries=3 --start-period=20s --start-interval=1s"
      : options.lenient
        ? "--interval=2s --timeout=5s --retries=3 --start-period=60s"
        : `--interval=1s --timeout=1s --retries=2${delay > 0 ? ` --start-period=${delay + 3}s` : ""}`;
    const health =
      options.healthcheck === false ? "" : `HEALTHCHECK ${timing} CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1\n`;
    const turnUnhealthy = options.unhealthyAfterSeconds ? `(sleep ${options.unhealthyAfterSeconds}; rm -f /www/health) & ` : "";
    await writeFile(
      join(context, "Dockerfile"),
      `FROM berth-test/busybox:1\nCOPY www /www\n${health}CMD ` +
        `["sh","-c","${turnUnhealthy}sleep ${delay}; exec httpd -f -p 8080 -h /www"]\n`,
    );
    await docker("build", "-q", "-t", tag, context);
    tags.push(tag);
    return tag;
  }

  async function stack(name: string, services: Record<string, ServiceInput>, options: { prune?: boolean } = {}): Promise<StackSpec> {
    const project = `${prefix}-${name}`;
    projects.add(project);
    const stackDir = join(dir, "stacks", name);
    await execFileP("mkdir", ["-p", stackDir]);
    const file = join(stackDir, "compose.yaml");
    const doc = {
      services: Object.fromEntries(
        Object.entries(services).map(([svc, s]) => [
          svc,
          { image: s.image, stop_grace_period: "1s", ...(s.dependsOn ? { depends_on: s.dependsOn } : {}), ...(s.compose ?? {}) },
        ]),
      ),
    };
    await writeFile(file, stringify(doc));
    const model = await compose.config({ name: project, directory: stackDir, files: [file] });
    const normalized = (model["services"] ?? {}) as Record<string, Record<string, unknown>>;
    const specs: ServiceSpec[] = Object.entries(services).map(([svc, s]) => ({
      name: svc,
      stack: project,
      config: normalized[svc] ?? {},
      image: s.image,
      rollout: { ...FAST_ROLLOUT, ...s.rollout },
      selfHeal: s.selfHeal ?? true,
      source: "pull",
      dependsOn: s.dependsOn ?? [],
      hasFixedHostPort: false,
    }));
    return { name: project, dir: stackDir, composeFile: file, machines: "all", prune: options.prune ?? false, services: specs, model };
  }

  async function context(stacks: StackSpec[], extra: Partial<StackContext> = {}): Promise<StackContext> {
    const state: DesiredState = {
      root: dir,
      revision: `content-${Math.random().toString(16).slice(2, 14)}`,
      push: false,
      machines: {},
      profiles: {},
      images: [],
      stacks,
      rollout: FAST_ROLLOUT,
      resyncSeconds: 300,
      allowEmpty: false,
    };
    return stacksTestContext({ engine, compose, lock, stateDir, violations }, state, extra);
  }

  async function containers(project: string) {
    const list = await engine.listContainers({ label: [`com.docker.compose.project=${project}`] });
    return list.map((c) => ({
      id: c.id,
      name: c.name,
      service: c.labels["com.docker.compose.service"] ?? "",
      imageId: c.imageId,
      state: c.state,
      status: c.status,
    }));
  }

  async function cleanup(): Promise<void> {
    for (const project of projects) {
      const ids = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`).catch(() => ""))
        .split("\n")
        .filter(Boolean);
      if (ids.length > 0) await docker("rm", "-f", ...ids).catch(() => "");
      const nets = (await docker("network", "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`).catch(() => ""))
        .split("\n")
        .filter(Boolean);
      for (const net of nets) await docker("network", "rm", net).catch(() => "");
      const rollbackTags = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${project}-*`).catch(() => ""))
        .split("\n")
        .filter(Boolean);
      for (const tag of rollbackTags) await docker("rmi", tag).catch(() => "");
    }
    for (const tag of tags) await docker("rmi", tag).catch(() => "");
    // References under the harness's prefix on any registry (pulled by a test), by tag or digest.
    const pulled = (await docker("images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}").catch(() => ""))
      .split("\n")
      .map((l) => l.split(" "))
      .filter(([repo]) => repo?.includes(`/${prefix}/`));
    for (const [repo, tag, digest] of pulled)
      await docker("rmi", tag && tag !== "<none>" ? `${repo}:${tag}` : `${repo}@${digest}`).catch(() => "");
    const broken = await expectStatusInvariants([stateDir], violations).catch((error: unknown) => error);
    await rm(dir, { recursive: true, force: true });
    if (broken) throw broken;
  }

  return {
    prefix,
    dir,
    stateDir,
    engine,
    compose,
    buildVersion,
    stack,
    context,
    imageId: (ref) => docker("image", "inspect", "-f", "{{.Id}}", ref),
    containers,
    cleanup,
  };
}

/** Records rollout/rollback events for assertions about what happened, not how. */
export function recordingEvents(): ReconcileEvents & { rollouts: string[] } {
  const rollouts: string[] = [];
  return { ...noEvents, rollouts, rollout: (stack, service, result) => void rollouts.push(`${service}:${result}`) };
}

/** A desired state with one stack's services replaced (a new commit). */
export function withServices(stack: StackSpec, patch: (service: ServiceSpec) => ServiceSpec): StackSpec {
  return { ...stack, services: stack.services.map(patch) };
}

export type ProbeCounts = { ok: number; fail: number; seconds: number; bodies: Set<string> };

export type Prober = {
  /** Runs `work` and counts the prober's answers meanwhile (the engine timestamps each line). */
  during(work: () => Promise<unknown>): Promise<ProbeCounts>;
  remove(): Promise<void>;
};

/**
 * A container on `network` requesting http://<service>:8080/ in four loops side by side (each
 * request resolves the name through the engine's DNS, so one loop alone is slow on a busy machine).
 * busybox-static wget crashes with -T, so no timeout flag.
 */
export async function startProber(name: string, network: string, service = "web"): Promise<Prober> {
  const loop = `while true; do b=$(wget -q -O- http://${service}:8080/ 2>/dev/null) && echo "ok $b" || echo "fail"; usleep 20000; done`;
  await docker(
    "run",
    "-d",
    "--name",
    name,
    "--network",
    network,
    "--label",
    "io.berth.test=true",
    "berth-test/busybox:1",
    "sh",
    "-c",
    `for i in 1 2 3 4; do (${loop}) & done; wait`,
  );
  return {
    async during(work) {
      const since = (Date.now() / 1000).toFixed(3);
      const started = Date.now();
      await work();
      const seconds = (Date.now() - started) / 1000;
      const words = (await docker("logs", "--timestamps", "--since", since, name))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" "));
      const bodies = new Set(words.filter((w) => w[1] === "ok").map((w) => w[2] ?? ""));
      const counts = { ok: words.filter((w) => w[1] === "ok").length, fail: words.filter((w) => w[1] === "fail").length, seconds, bodies };
      if (process.env["BERTH_TEST_REPORT"])
        console.info(`prober: ${counts.ok} ok, ${counts.fail} failed in ${seconds.toFixed(1)} s (${(counts.ok / seconds).toFixed(1)}/s)`);
      return counts;
    },
    remove: () =>
      docker("rm", "-f", name).then(
        () => undefined,
        () => undefined,
      ),
  };
}
