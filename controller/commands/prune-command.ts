// `berth prune DIR --machine NAME --state-dir D [--dry-run] [--json]`: one prune by hand, under the host lock.
import prettyBytes from "pretty-bytes";
import { systemClock } from "../../platform/clock.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { createLogger, logFormat } from "../../platform/logger.ts";
import { createBuildCache } from "../../reconcilers/prune/build-cache.ts";
import { runPrune } from "../../reconcilers/prune/prune-reconciler.ts";
import type { PruneReport } from "../../reconcilers/prune/prune-reconciler.ts";
import { LockBusyError } from "../../status/host-lock.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";
import { noEvents } from "../../status/reconcile-events.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { formatProblem } from "../../desired-state/problem.ts";
import { boolFlag, listFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliEngine, loadForCli } from "../load-for-cli.ts";
import { runRegistryPruneCommand } from "./registry-prune-command.ts";

const USAGE = `Usage: berth prune DIR --machine NAME --state-dir DIR [--dry-run] [--json]
                   [--repository PREFIX]... [--skip-dangling] [--skip-build-cache] [--wait SECONDS]
       berth prune DIR --registry --machine NAME --state-dir DIR [--dry-run] [--json]

Removes images berth no longer needs, never forced, one by one. Kept: images of every container
(running or stopped), each service's current image and rollback history, the newest prune.keep per
repository by berth's own record, anything younger than prune.minAge, and images berth does not
manage (unless prune.foreign). Waits for a build or swap holding the host lock (default: 600 s).

  --dry-run            list every candidate with the rule that lets it go, every kept image with
                       the rule that keeps it; change nothing
  --json               print the report as JSON
  --repository PREFIX  only consider images whose every tag starts with PREFIX (repeatable)
  --skip-dangling      leave untagged images alone
  --skip-build-cache   leave the BuildKit cache alone
  --registry           prune the registry instead: delete berth-made tags no machine's current
                       version, this host's rollback history or the newest prune.keep per image
                       needs (and none younger than prune.minAge); see docs/prune.md

Exit 0 when done, 1 when a removal failed, 2 on usage or desired-state errors, 3 when the lock stayed busy.`;

export const pruneCommand: CommandSpec = {
  name: "prune",
  usage: USAGE,
  options: {
    machine: { type: "string" },
    "state-dir": { type: "string" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
    repository: { type: "string", multiple: true },
    "skip-dangling": { type: "boolean" },
    "skip-build-cache": { type: "boolean" },
    wait: { type: "string" },
    registry: { type: "boolean" },
  },
  async run(args, io) {
    const dir = args.positionals[0];
    const machine = stringFlag(args, "machine") ?? io.env["BERTH_MACHINE"];
    const stateDir = stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"];
    const waitSeconds = Number(stringFlag(args, "wait") ?? "600");
    if (!dir || !machine || !stateDir || !Number.isFinite(waitSeconds) || waitSeconds < 0) {
      io.stderr(`${USAGE}\n`);
      return 2;
    }
    const loaded = await loadForCli(dir, io);
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.stderr(`${formatProblem(problem)}\n`);
      return 2;
    }
    if (!loaded.state.machines[machine]) {
      io.stderr(
        `berth prune: machine "${machine}" is not declared in ${dir}/berth.yaml (known: ` +
          `${Object.keys(loaded.state.machines).join(", ") || "none"})\n`,
      );
      return 2;
    }
    const repositories = listFlag(args, "repository");
    const json = boolFlag(args, "json");
    const logger = createLogger({ level: io.env["BERTH_LOG_LEVEL"] ?? "warn", format: logFormat(io.env) });
    if (boolFlag(args, "registry"))
      return runRegistryPruneCommand({ state: loaded.state, machine, stateDir, dryRun: boolFlag(args, "dry-run"), json, logger }, io);
    try {
      const report = await runPrune(
        {
          engine: createDockerEngine(cliEngine(io)),
          store: await openStatusStore(stateDir),
          lock: openSharedHostLock(stateDir),
          logger,
          events: noEvents,
          clock: systemClock,
          buildCache: createBuildCache({ env: cliEngine(io).childEnv }),
        },
        {
          state: loaded.state,
          machine,
          dryRun: boolFlag(args, "dry-run"),
          scope: {
            ...(repositories.length > 0 ? { repositories } : {}),
            dangling: !boolFlag(args, "skip-dangling"),
            buildCache: !boolFlag(args, "skip-build-cache"),
          },
          lockWaitMs: waitSeconds * 1000,
        },
      );
      io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatPruneReport(report));
      return report.failed > 0 ? 1 : 0;
    } catch (error) {
      if (error instanceof LockBusyError) {
        io.stderr(`berth prune: gave up after ${waitSeconds} s: ${error.message}\n`);
        return 3;
      }
      throw error;
    }
  },
};

/** Human output: one line per candidate and kept image, then the counts. */
export function formatPruneReport(report: PruneReport): string {
  const lines: string[] = [];
  const outcome = new Map(report.removals.map((r) => [r.imageId, r.outcome]));
  const name = (tags: string[], id: string): string => (tags.length > 0 ? tags.join(", ") : id.replace("sha256:", "").slice(0, 12));
  const verb = report.dryRun ? "would remove" : "removed";
  for (const c of report.candidates) {
    const done = report.dryRun ? "remove" : (outcome.get(c.imageId) ?? "skipped");
    lines.push(`${done.padEnd(9)} ${c.rule.padEnd(10)} ${prettyBytes(c.sizeBytes).padStart(9)}  ${name(c.tags, c.imageId)}`);
  }
  for (const k of report.kept)
    lines.push(
      `${"keep".padEnd(9)} ${k.rules[0].padEnd(10)} ${prettyBytes(k.sizeBytes).padStart(9)}  ` +
        `${name(k.tags, k.imageId)}${k.rules.length > 1 ? `  (also: ${k.rules.slice(1).join(", ")})` : ""}`,
    );
  const keptCounts = Object.entries(report.keptByRule)
    .filter(([, n]) => n > 0)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(", ");
  const bytes = report.dryRun ? report.candidateBytes : report.reclaimedBytes;
  lines.push(
    "",
    `prune ${report.machine}${report.dryRun ? " (dry run)" : ""}: ${verb} ` +
      `${report.dryRun ? report.candidates.length : report.removedImages} image(s), ` +
      `${prettyBytes(bytes)}${report.dryRun ? " at most" : " reclaimed"}; kept ${report.kept.length} ` +
      `(${keptCounts || "none"})${report.failed > 0 ? `; ${report.failed} failed` : ""}`,
  );
  if (report.buildCache.action === "prune")
    lines.push(
      `build cache: ${prettyBytes(report.buildCache.usedBytes)} above ` +
        `${prettyBytes(report.buildCache.maxBytes)}` +
        (report.dryRun ? ", would be trimmed" : `, trimmed ${prettyBytes(report.buildCache.reclaimedBytes ?? 0)}`),
    );
  if (report.firstSeenRecorded > 0)
    lines.push(`recorded ${report.firstSeenRecorded} managed image(s) berth had no record of (kept until they age past minAge)`);
  return `${lines.join("\n")}\n`;
}
