// depends_on order within a stack, pure: waves of services whose dependencies come earlier.
export function dependencyWaves(services: ReadonlyArray<{ name: string; dependsOn: readonly string[] }>): string[][] {
  const names = new Set(services.map((s) => s.name));
  const pending = new Map(services.map((s) => [s.name, s.dependsOn.filter((d) => names.has(d) && d !== s.name)]));
  const done = new Set<string>();
  const waves: string[][] = [];
  while (pending.size > 0) {
    const wave = [...pending].filter(([, deps]) => deps.every((d) => done.has(d))).map(([name]) => name).sort();
    // A cycle (compose rejects these) must not hang the reconciler: release the rest in name order.
    const next = wave.length > 0 ? wave : [...pending.keys()].sort();
    for (const name of next) {
      pending.delete(name);
      done.add(name);
    }
    waves.push(next);
  }
  return waves;
}
