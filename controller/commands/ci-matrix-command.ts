// `berth ci-matrix DIR`: the image × machine build matrix as JSON for CI (GitHub Actions
// `strategy.matrix`), one row per distinct content tag so shared images are built once.
import { formatProblem } from "../../desired-state/problem.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { computeImageInputs } from "../../reconcilers/images/image-inputs.ts";
import type { CommandSpec } from "../cli-io.ts";
import { loadForCli } from "../load-for-cli.ts";

export type MatrixRow = { image: string; machine: string; tag: string; machineSpecific: boolean; parents: string[] };

/** Rows in hierarchy order; an image whose tag is the same on several machines appears once. */
export async function ciMatrix(state: DesiredState): Promise<{ include: MatrixRow[]; problems: string[] }> {
  const include: MatrixRow[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const machine of Object.keys(state.machines)) {
    for (const input of await computeImageInputs(state, machine)) {
      if (!input.spec.machines.includes(machine)) continue;
      if (input.problem) {
        problems.push(`${input.name} on ${machine}: ${input.problem.reason}: ${input.problem.message}`);
        continue;
      }
      if (seen.has(input.tag)) continue;
      seen.add(input.tag);
      include.push({ image: input.name, machine, tag: input.tag, machineSpecific: input.machineSpecific, parents: input.parents });
    }
  }
  return { include, problems };
}

export const ciMatrixCommand: CommandSpec = {
  name: "ci-matrix",
  usage:
    'Usage: berth ci-matrix DIR\n\nPrints {"include":[{image, machine, tag, machineSpecific, parents}]} on one line, ready for a ' +
    "GitHub Actions matrix.",
  options: {},
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) {
      io.stderr(`${ciMatrixCommand.usage}\n`);
      return 2;
    }
    const loaded = await loadForCli(dir, io);
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.stderr(`${formatProblem(problem)}\n`);
      return 1;
    }
    const { include, problems } = await ciMatrix(loaded.state);
    for (const problem of problems) io.stderr(`${problem}\n`);
    io.stdout(`${JSON.stringify({ include })}\n`);
    return problems.length > 0 ? 1 : 0;
  },
};
