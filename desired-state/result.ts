// The outcome of a loader phase: a value, or the problems that stop the load there.
import type { Problem } from "./problem.ts";

export type Result<T, E = Problem[]> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** The values of the results that passed, and the problems of those that failed. */
export function partition<T>(results: ReadonlyArray<Result<T>>): { values: T[]; problems: Problem[] } {
  return {
    values: results.flatMap((result) => (result.ok ? [result.value] : [])),
    problems: results.flatMap((result) => (result.ok ? [] : result.error)),
  };
}

/** The values of every result, or the problems of all that failed. */
export function collect<T>(results: ReadonlyArray<Result<T>>): Result<T[]> {
  const { values, problems } = partition(results);
  return unless(problems, () => values);
}

/** `value` when there are no problems, else the problems. */
export function unless<T>(problems: Problem[], value: () => T): Result<T> {
  return problems.length > 0 ? err(problems) : ok(value());
}
