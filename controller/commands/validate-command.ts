// `berth validate DIR [--machine M] [--policy FILE]`: checks a whole desired state and the host
// policy over it; every problem and violation as file:line: field: message.
import { formatProblem } from "../../desired-state/problem.ts";
import type { Problem } from "../../desired-state/problem.ts";
import { checkHostPolicy } from "../../policy/check-host-policy.ts";
import { loadPolicy } from "../../policy/load-policy.ts";
import { stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliStateDir, loadForCli } from "../load-for-cli.ts";

export const validateCommand: CommandSpec = {
  name: "validate",
  usage: [
    "Usage: berth validate DIR [--machine NAME] [--policy FILE] [--state-dir DIR] [--json]",
    "",
    "Exit 0 when valid; otherwise exit 1 with each problem as file:line: field: message.",
    "The host policy (--policy, default /etc/berth/policy.yaml when it exists, else level baseline)",
    "is checked over MACHINE's stacks and images (--machine, else the policy's machine), or over",
    "every stack and image when neither names one. Compose results are cached by content in the",
    "state dir (default $BERTH_STATE_DIR or /var/lib/berth).",
  ].join("\n"),
  options: { machine: { type: "string" }, policy: { type: "string" }, "state-dir": { type: "string" }, json: { type: "boolean" } },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) {
      io.stderr(`${validateCommand.usage}\n`);
      return 2;
    }
    const policy = await loadPolicy(stringFlag(args, "policy"));
    if (!policy.ok) {
      for (const problem of policy.problems) io.stderr(`${formatProblem(problem)}\n`);
      return 2;
    }
    const result = await loadForCli(dir, io, cliStateDir(args, io.env));
    let problems: Problem[] = result.ok ? [] : result.problems;
    const machine = stringFlag(args, "machine") ?? policy.policy.machine;
    if (result.ok) {
      if (machine !== undefined && !result.state.machines[machine]) {
        problems = [
          {
            file: "berth.yaml",
            field: "machines",
            message: `machine "${machine}" is not in berth.yaml machines (known: ${Object.keys(result.state.machines).join(", ")})`,
          },
        ];
      } else {
        const denials = await checkHostPolicy(policy.policy, result.state, machine, { env: io.env });
        problems = [...denials.fleet, ...[...denials.stacks.values()].flat()];
      }
    }
    const valid = problems.length === 0;
    if (args.flags["json"] === true) {
      io.stdout(
        `${JSON.stringify(valid && result.ok ? { valid: true, revision: result.state.revision } : { valid: false, problems }, null, 2)}\n`,
      );
      return valid ? 0 : 1;
    }
    if (valid && result.ok) {
      const { images, stacks } = result.state;
      const services = stacks.reduce((n, s) => n + s.services.length, 0);
      io.stdout(
        `${dir}: valid (${Object.keys(result.state.machines).length} machines, ${images.length} images, ${stacks.length} stacks, ` +
          `${services} services) under host policy level ${policy.policy.level}${machine ? ` for machine ${machine}` : ""}\n`,
      );
      return 0;
    }
    for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
    io.stderr(`${dir}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
    return 1;
  },
};
