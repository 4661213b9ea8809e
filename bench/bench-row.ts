// One row of the benchmark table: what was measured, the number, and its target.
export type BenchRow = {
  name: string;
  value: number;
  unit: string;
  /** Human target, e.g. "≤ 300 ms". */
  target: string;
  pass: boolean;
  note?: string;
};

/** Median of repeated runs, in milliseconds. */
export async function medianMs(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const [median = Number.NaN] = await interleavedMediansMs(runs, [fn]);
  return median;
}

/**
 * The median of each of `fns`, run in turns (one run of each per round), so that a machine whose
 * speed drifts during the rounds weighs on every one of them alike: for rows compared side by side.
 */
export async function interleavedMediansMs(runs: number, fns: ReadonlyArray<() => Promise<unknown> | unknown>): Promise<number[]> {
  const times = fns.map((): number[] => []);
  for (let i = 0; i < runs; i += 1)
    for (const [index, fn] of fns.entries()) {
      const start = performance.now();
      await fn();
      times[index]?.push(performance.now() - start);
    }
  return times.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? Number.NaN);
}
