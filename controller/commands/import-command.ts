// `berth import --from-host --out DIR [--machine M]`: a desired-state repo from the compose
// projects running on this host, validated, with a report of what needs a human.
import { appendFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { formatProblem } from "../../desired-state/problem.ts";
import { checkHostPolicy } from "../../policy/check-host-policy.ts";
import { loadPolicy } from "../../policy/load-policy.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { boolFlag, listFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { importFromHost } from "../import/import-from-host.ts";
import { loadForCli } from "../load-for-cli.ts";

export const importCommand: CommandSpec = {
  name: "import",
  usage:
    "Usage: berth import --from-host --out DIR [--machine NAME] [--project P]... [--policy FILE]\n\nReads every running docker " +
    "compose project (not berth's own; only P with --project) and writes DIR/berth.yaml, " +
    "DIR/profiles/NAME.json,\nDIR/stacks/<project>/compose.yaml and DIR/IMPORT-REPORT.md (what needs a human). NAME defaults " +
    "to the hostname.\nWhat the host policy (--policy, default /etc/berth/policy.yaml when it exists) would refuse is " +
    "reported.\nExit 0 when the result validates.",
  options: {
    "from-host": { type: "boolean" },
    out: { type: "string" },
    machine: { type: "string" },
    project: { type: "string", multiple: true },
    policy: { type: "string" },
  },
  async run(args, io) {
    const out = stringFlag(args, "out");
    if (!boolFlag(args, "from-host") || !out) {
      io.stderr(`${importCommand.usage}\n`);
      return 2;
    }
    const host = hostname();
    const machine =
      stringFlag(args, "machine") ??
      (host
        .toLowerCase()
        .replace(/[^a-z0-9_.-]/g, "-")
        .replace(/^[^a-z0-9]+/, "") ||
        "host");
    const policy = await loadPolicy(stringFlag(args, "policy"));
    if (!policy.ok) {
      for (const problem of policy.problems) io.stderr(`${formatProblem(problem)}\n`);
      return 2;
    }
    const engine = createDockerEngine();
    let result;
    try {
      result = await importFromHost({
        engine,
        compose: createComposeCli(),
        out,
        machine,
        hostname: host,
        projects: listFlag(args, "project"),
      });
    } catch (error) {
      io.stderr(`berth import: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    io.stdout(`imported ${result.stacks.length} stack(s) for machine ${machine} into ${out}: ${result.stacks.join(", ") || "none"}\n`);
    for (const line of result.report) io.stdout(`needs a human: ${line}\n`);
    const loaded = await loadForCli(out);
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.stderr(`${formatProblem(problem)}\n`);
      return 1;
    }
    // What this host's policy would refuse is for a human to settle before the first apply.
    const denials = await checkHostPolicy(policy.policy, loaded.state, machine, { env: io.env, engine });
    const refused = [...denials.fleet, ...[...denials.stacks.values()].flat()].map(
      (problem) => `host policy (level ${policy.policy.level}) would refuse ${formatProblem(problem)}`,
    );
    for (const line of refused) io.stdout(`needs a human: ${line}\n`);
    if (refused.length > 0) await appendFile(join(out, "IMPORT-REPORT.md"), `${refused.map((line) => `- ${line}`).join("\n")}\n`);
    io.stdout(`${out}: valid (see IMPORT-REPORT.md before the first berth apply)\n`);
    return 0;
  },
};
