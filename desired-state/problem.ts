// Problems found in a desired state: where (file, line, field) and what, and how they print.
export type Problem = {
  /** Path relative to the desired-state root. */
  file: string;
  line?: number;
  /** Dotted path of the offending field, or "" for the whole file. */
  field: string;
  message: string;
};

export function formatProblem(problem: Problem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return problem.field === "" ? `${where}: ${problem.message}` : `${where}: ${problem.field}: ${problem.message}`;
}

/** Thrown where a caller needs the desired state to be valid; carries every problem. */
export class DesiredStateError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "DesiredStateError";
    this.problems = problems;
  }
}
