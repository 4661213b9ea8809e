// `berth build DIR --machine NAME [--image NAME…] [--push] [--scan]`: builds exactly what the agent
// would for one machine, with the same input hashes and tags, so hosts pull instead of building (CI).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatProblem } from "../../desired-state/problem.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { createLogger, logFormat } from "../../platform/logger.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { createImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import { boolFlag, listFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliHostLock, exitsWhenLockBusy, LOCK_WAIT_USAGE } from "../cli-host-lock.ts";
import { cliEngine, loadWithMachine } from "../load-for-cli.ts";
import { createProgressWriter } from "../progress-writer.ts";

export const buildCommand: CommandSpec = exitsWhenLockBusy({
  name: "build",
  usage: [
    "Usage: berth build DIR --machine NAME [--image NAME]... [--push] [--scan] [--state-dir DIR] [--policy FILE] " +
      "[--wait SECONDS] [--json] [--quiet]",
    "",
    "Builds every image MACHINE needs (or only --image and their parents), in hierarchy order,",
    "reusing local images and pulling what the registry already has. --push pushes what it builds",
    "(and reused images the registry lacks). Exit 0 when every image is ready (with --push: and",
    "the registry accepted the host's Docker credentials; a refusal is exit 1, never a quiet skip).",
    "Stacks the host policy refuses (--policy, default /etc/berth/policy.yaml or level baseline)",
    "are not built. On a terminal, each build's steps show live; --quiet prints only failures",
    "and the counts. Without --state-dir, a throwaway one (and its lock) is used. --scan scans every",
    "image with berth.yaml's `scan:` settings (default: trivy, no failOn) and exits 1 when the",
    "vulnerability gate would hold a rollout: findings at a failOn severity not allowed, or a failed scan.",
    LOCK_WAIT_USAGE,
  ].join("\n"),
  options: {
    machine: { type: "string", short: "m" },
    image: { type: "string", multiple: true },
    push: { type: "boolean" },
    scan: { type: "boolean" },
    "state-dir": { type: "string" },
    policy: { type: "string" },
    wait: { type: "string" },
    json: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  },
  async run(args, io) {
    const loaded = await loadWithMachine(args, io, buildCommand.usage);
    if (!loaded.ok) return loaded.code;
    const { state, machine } = loaded;
    for (const problems of loaded.denied.values()) for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
    const only = listFlag(args, "image");
    const unknown = only.filter((name) => !state.images.some((image) => image.name === name));
    if (unknown.length > 0) {
      io.stderr(`unknown image ${unknown.map((n) => `"${n}"`).join(", ")} (images: ${state.images.map((i) => i.name).join(", ")})\n`);
      return 2;
    }
    const explicitStateDir = stringFlag(args, "state-dir");
    const stateDir = explicitStateDir ?? (await mkdtemp(join(tmpdir(), "berth-build-state-")));
    try {
      const lock = cliHostLock("build", stateDir, args, io);
      if (!lock) return 2;
      const store = await openStatusStore(stateDir);
      const json = boolFlag(args, "json");
      const writer = createProgressWriter(
        { write: io.stdout, tty: io.tty === true, ...(io.columns ? { columns: io.columns } : {}) },
        { quiet: json || boolFlag(args, "quiet") },
      );
      const logger = createLogger({
        level: io.env["BERTH_LOG_LEVEL"] ?? "warn",
        format: logFormat(io.env, writer.logs ? true : undefined),
        ...(writer.logs ? { destination: writer.logs } : {}),
      });
      const reconciler = createImagesReconciler({
        engine: createDockerEngine(cliEngine(io)),
        dockerEnv: cliEngine(io).childEnv,
        store,
        lock,
        logger,
      });
      const result = await reconciler
        .reconcile(state, machine, {
          only,
          push: boolFlag(args, "push"),
          retryFailed: true,
          progress: writer.sink,
          scan: boolFlag(args, "scan"),
        })
        .finally(() => writer.close());
      if (json) {
        io.stdout(`${JSON.stringify({ machine, revision: state.revision, ok: result.ok, images: result.outcomes }, null, 2)}\n`);
      } else {
        for (const failed of result.outcomes.filter((o) => !o.ok))
          io.stdout(
            `✗ image ${failed.name} ${failed.tag || "-"} ${failed.reason}:\n` + `     ${failed.message.split("\n").join("\n     ")}\n`,
          );
        const pushed = result.outcomes.filter((o) => o.pushed).map((o) => o.name);
        if (pushed.length > 0) io.stdout(`pushed: ${pushed.join(", ")}\n`);
        const built = result.outcomes.filter((o) => o.action === "build" && o.ok).length;
        io.stdout(`${machine}: ${result.outcomes.length} images, ${built} built, ${result.outcomes.filter((o) => !o.ok).length} failed\n`);
      }
      // CI must not pass while pushing nothing because the runner's `docker login` is missing or wrong.
      const notPushed = boolFlag(args, "push") ? result.outcomes.filter((o) => o.degraded?.reason === "RegistryUnauthorized") : [];
      for (const outcome of notPushed) io.stderr(`${outcome.name}: not pushed: ${outcome.degraded?.message ?? ""}\n`);
      // The vulnerability gate: what would hold a rollout on a host fails the CI job.
      const gated = result.outcomes.filter((o) => o.scan?.verdict.hold);
      for (const outcome of gated)
        io.stderr(`${outcome.name}: ${outcome.scan?.verdict.hold?.reason}: ${outcome.scan?.verdict.hold?.message}\n`);
      return result.ok && notPushed.length === 0 && gated.length === 0 ? 0 : 1;
    } finally {
      if (!explicitStateDir) await rm(stateDir, { recursive: true, force: true });
    }
  },
});
