// `berth validate DIR`: checks a whole desired state; every problem as file:line: field: message.
import { formatProblem } from "../../desired-state/problem.ts";
import type { CommandSpec } from "../cli-io.ts";
import { loadForCli } from "../load-for-cli.ts";

export const validateCommand: CommandSpec = {
  name: "validate",
  summary: "check a desired-state directory and list every problem",
  usage: "Usage: berth validate DIR [--json]\n\nExit 0 when valid; otherwise exit 1 with each problem as file:line: field: message.",
  options: { json: { type: "boolean" } },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) {
      io.stderr(`${validateCommand.usage}\n`);
      return 2;
    }
    const result = await loadForCli(dir);
    if (args.flags["json"] === true) {
      io.stdout(`${JSON.stringify(result.ok ? { valid: true, revision: result.state.revision } : { valid: false, problems: result.problems }, null, 2)}\n`);
      return result.ok ? 0 : 1;
    }
    if (result.ok) {
      const { images, stacks } = result.state;
      const services = stacks.reduce((n, s) => n + s.services.length, 0);
      io.stdout(`${dir}: valid (${Object.keys(result.state.machines).length} machines, ${images.length} images, ${stacks.length} stacks, ${services} services)\n`);
      return 0;
    }
    for (const problem of result.problems) io.stderr(`${formatProblem(problem)}\n`);
    io.stderr(`${dir}: ${result.problems.length} problem${result.problems.length === 1 ? "" : "s"}\n`);
    return 1;
  },
};
