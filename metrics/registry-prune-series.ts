// Registry retention series from the machine's prune record: tags deleted in all, tags kept, deletes refused.
import type { RegistryPruneRecord } from "../status/resource-status.ts";
import type { MetricFamilies } from "./metric-families.ts";

export function fillRegistryPrune(
  m: Pick<MetricFamilies, "registryTagsDeleted" | "registryTagsKept" | "registryDeleteUnsupported">,
  record: RegistryPruneRecord | undefined,
): void {
  m.registryTagsDeleted.reset();
  m.registryTagsKept.reset();
  m.registryDeleteUnsupported.reset();
  if (!record) return;
  const labels = { registry: record.registry };
  // The counter carries the record's running total, so it survives agent restarts and one-shot CLI runs.
  m.registryTagsDeleted.inc(labels, record.deletedTagsTotal);
  m.registryTagsKept.set(labels, record.keptTags);
  m.registryDeleteUnsupported.set(labels, record.unsupported === undefined ? 0 : 1);
}
