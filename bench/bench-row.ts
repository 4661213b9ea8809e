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
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}
