// The prune settings of a machine: berth's defaults, berth.yaml's `prune:`, then the machine's
// own `prune:`, each field over the one before.
import type { PruneFileSpec } from "./berth-file-schema.ts";
import type { PruneSpec } from "./desired-state.ts";

export function pruneSpec(base: PruneSpec, file: PruneFileSpec | undefined): PruneSpec {
  const fields: Partial<PruneSpec> = {
    schedule: file?.schedule,
    keep: file?.keep,
    minAgeSeconds: file?.minAge,
    foreign: file?.foreign,
    buildCacheMaxGiB: file?.buildCacheMaxGiB,
  };
  return { ...base, ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) };
}
