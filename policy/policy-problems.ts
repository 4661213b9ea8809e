// Violations as berth's problems (`file:line: field: message`): reads each named file once to
// find the line, and groups them per refused stack for its Stalled/PolicyDenied condition.
import { join } from "node:path";
import type { Problem } from "../desired-state/problem.ts";
import { formatProblem } from "../desired-state/problem.ts";
import { parseYamlText, readFileLimited } from "../desired-state/read-document.ts";
import type { Violation } from "./evaluate-policy.ts";

export type PolicyDenials = {
  /** Refused stacks: name → their problems. */
  stacks: ReadonlyMap<string, Problem[]>;
  /** Problems in the fleet's own files (berth.yaml, images/): the whole desired state is refused. */
  fleet: Problem[];
};

export async function policyProblems(violations: readonly Violation[], root: string): Promise<Array<Problem & { stack?: string }>> {
  const lines = new Map<string, Promise<(violation: Violation) => number | undefined>>();
  const out: Array<Problem & { stack?: string }> = [];
  for (const violation of violations) {
    let locate = lines.get(violation.file);
    if (!locate) {
      locate = lineFinder(join(root, violation.file), violation.file);
      lines.set(violation.file, locate);
    }
    const line = (await locate)(violation);
    out.push({
      ...(violation.stack ? { stack: violation.stack } : {}),
      file: violation.file,
      ...(line === undefined ? {} : { line }),
      // A Dockerfile's field is its instruction; the reference is in the message.
      field: violation.path[0] === "FROM" ? "FROM" : violation.path.map(String).join("."),
      message: `refused by the host policy (control ${violation.control}, level ${violation.level}): ${violation.message}`,
    });
  }
  return out;
}

export async function policyDenials(violations: readonly Violation[], root: string): Promise<PolicyDenials> {
  const stacks = new Map<string, Problem[]>();
  const fleet: Problem[] = [];
  for (const { stack, ...problem } of await policyProblems(violations, root)) {
    if (stack === undefined) fleet.push(problem);
    else stacks.set(stack, [...(stacks.get(stack) ?? []), problem]);
  }
  return { stacks, fleet };
}

/** One line for a condition message: the first problems and how many more. */
export function summarizeProblems(problems: readonly Problem[], shown = 3): string {
  return problems.slice(0, shown).map(formatProblem).join("; ") + (problems.length > shown ? `; and ${problems.length - shown} more` : "");
}

async function lineFinder(absPath: string, relPath: string): Promise<(violation: Violation) => number | undefined> {
  const read = await readFileLimited(absPath, relPath);
  if (!read.ok) return () => undefined;
  const text = read.text;
  if (!/\.ya?ml$/.test(relPath)) {
    // A Dockerfile: the line of the FROM that names the reference.
    const rows = text.split(/\r?\n/);
    return (violation) => {
      const ref = String(violation.path[1] ?? "");
      const index = rows.findIndex((row) => /^\s*FROM\s/i.test(row) && row.split(/\s+/).includes(ref));
      return index === -1 ? undefined : index + 1;
    };
  }
  const parsed = parseYamlText(text, relPath);
  return parsed.ok ? (violation) => parsed.doc.lineOf(violation.path) : () => undefined;
}
