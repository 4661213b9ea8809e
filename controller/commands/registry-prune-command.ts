// `berth prune DIR --registry [--dry-run] [--json]`: registry retention by hand (see docs/prune.md).
import { systemClock } from "../../platform/clock.ts";
import { createDockerCredentials } from "../../platform/docker-credentials.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import type { Logger } from "../../platform/logger.ts";
import { createRegistryHttp } from "../../reconcilers/images/registry-client.ts";
import { createRegistryApi } from "../../reconcilers/prune/registry-api.ts";
import { runRegistryPrune } from "../../reconcilers/prune/registry-prune-reconciler.ts";
import type { RegistryPruneReport } from "../../reconcilers/prune/registry-prune-reconciler.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { CliIo } from "../cli-io.ts";
import { cliEngine } from "../load-for-cli.ts";

export async function runRegistryPruneCommand(
  request: { state: DesiredState; machine: string; stateDir: string; dryRun: boolean; json: boolean; logger: Logger },
  io: CliIo,
): Promise<number> {
  if (!request.state.registry) {
    io.stderr("berth prune --registry: berth.yaml names no registry (registry: in berth.yaml)\n");
    return 2;
  }
  const selection = cliEngine(io);
  const http = createRegistryHttp({ credentials: createDockerCredentials({ env: selection.childEnv }), timeoutMs: 10_000 });
  let report: RegistryPruneReport;
  try {
    report = await runRegistryPrune(
      {
        api: createRegistryApi(http),
        engine: createDockerEngine(selection),
        store: await openStatusStore(request.stateDir),
        lock: openSharedHostLock(request.stateDir),
        logger: request.logger,
        clock: systemClock,
      },
      { state: request.state, machine: request.machine, dryRun: request.dryRun },
    );
  } catch (error) {
    io.stderr(`berth prune --registry: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  io.stdout(request.json ? `${JSON.stringify(report, null, 2)}\n` : formatRegistryPruneReport(report));
  return report.failed > 0 ? 1 : 0;
}

/** One line per manifest (its tags, the rule that keeps it or what became of it), then the counts. */
export function formatRegistryPruneReport(report: RegistryPruneReport): string {
  const lines: string[] = [];
  for (const d of report.deletions) {
    const done = d.outcome === "planned" ? "delete" : d.outcome;
    lines.push(`${done.padEnd(11)} ${d.repository}@${d.digest.slice(7, 19)}  ${d.tags.join(", ")}${d.error ? `  (${d.error})` : ""}`);
  }
  for (const k of report.kept) {
    const also = k.rules.length > 1 ? `  (also: ${k.rules.slice(1).join(", ")})` : "";
    lines.push(
      `${`keep ${k.rules[0]}`.padEnd(11)} ${k.repository}${k.digest ? `@${k.digest.slice(7, 19)}` : ""}  ${k.tags.join(", ")}${also}`,
    );
  }
  const deleted = report.deletions.filter((d) => d.outcome === "deleted").length;
  lines.push(
    "",
    `prune --registry ${report.registry}${report.dryRun ? " (dry run)" : ""}: ${report.dryRun ? "would delete" : "deleted"} ` +
      `${report.dryRun ? report.deletions.length : deleted} manifest(s)` +
      `${report.dryRun ? "" : ` (${report.deletedTags} tag(s))`}; kept ${report.kept.length} (${report.keptTags} tag(s))` +
      `${report.failed > 0 ? `; ${report.failed} failed` : ""}`,
  );
  if (report.unsupported !== undefined)
    lines.push(
      `the registry does not allow deletes (${report.unsupported}); nothing was deleted. ` +
        "Debian's docker-registry allows them with storage.delete.enabled: true",
    );
  return `${lines.join("\n")}\n`;
}
