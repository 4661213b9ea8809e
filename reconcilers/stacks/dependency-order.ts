// depends_on order within a stack, pure: waves of services whose dependencies come earlier.
export function dependencyWaves(services: ReadonlyArray<{ name: string; dependsOn: readonly string[] }>): string[][] {
  const names = new Set(services.map((s) => s.name));
  const pending = new Map(services.map((s) => [s.name, s.dependsOn.filter((d) => names.has(d) && d !== s.name)]));
  const done = new Set<string>();
  const waves: string[][] = [];
  while (pending.size > 0) {
    const wave = [...pending]
      .filter(([, deps]) => deps.every((d) => done.has(d)))
      .map(([name]) => name)
      .sort();
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

/**
 * The first `depends_on` entry with `condition: service_healthy` that is not Ready in this pass
 * (pure): compose would not start the service before it, and neither does berth.
 */
export function unreadyHealthyDependency(
  config: Readonly<Record<string, unknown>>,
  ready: ReadonlyMap<string, boolean>,
): string | undefined {
  const dependsOn = config["depends_on"];
  if (typeof dependsOn !== "object" || dependsOn === null || Array.isArray(dependsOn)) return undefined;
  for (const [name, spec] of Object.entries(dependsOn as Record<string, unknown>)) {
    const condition = typeof spec === "object" && spec !== null ? (spec as Record<string, unknown>)["condition"] : undefined;
    if (condition === "service_healthy" && ready.get(name) !== true) return name;
  }
  return undefined;
}
