// Phase 4 of loading a desired state: the validated specs put together as one DesiredState,
// images in build order (parents first, each needed by every machine its children are), and
// each machine with its prune settings.
import type { Validated } from "./cross-validate.ts";
import { DEFAULT_PRUNE, DEFAULT_RESYNC_SECONDS } from "./desired-state.ts";
import type { DesiredState, ImageSpec, MachineSpec } from "./desired-state.ts";
import { topologicalOrder } from "./image-graph.ts";
import { pruneSpec } from "./prune-spec.ts";
import type { BerthFile } from "./berth-file-schema.ts";
import { err, ok } from "./result.ts";
import type { Result } from "./result.ts";

export function assemble(validated: Validated, at: { root: string; revision: string }): Result<DesiredState> {
  const { berth, images } = validated;
  const order = topologicalOrder(images);
  if (!order.ok) {
    const first = images.find((image) => image.name === order.cycle[0]);
    return err([{ file: first?.declaredIn ?? "images", field: "FROM", message: `image cycle: ${order.cycle.join(" → ")}` }]);
  }
  const fleetPrune = pruneSpec(DEFAULT_PRUNE, berth.prune);
  const machines: Record<string, MachineSpec> = {};
  for (const [name, spec] of Object.entries(berth.machines)) {
    machines[name] = {
      name,
      profile: spec.profile,
      hostnames: spec.hostnames ?? [],
      ...(spec.gpus === undefined ? {} : { gpus: spec.gpus }),
      prune: pruneSpec(fleetPrune, spec.prune),
    };
  }
  return ok({
    root: at.root,
    revision: at.revision,
    ...registryFields(berth.registry),
    push: berth.push ?? true,
    machines,
    profiles: validated.profiles,
    images: inBuildOrder(images, order.order),
    stacks: validated.stacks,
    rollout: validated.rollout,
    resyncSeconds: berth.resync ?? DEFAULT_RESYNC_SECONDS,
    allowEmpty: berth.allowEmpty ?? false,
    ...(berth.scan ? { scan: berth.scan } : {}),
  });
}

/** `images` sorted by `order`, each parent needed by the machines of its children. */
function inBuildOrder(images: readonly ImageSpec[], order: readonly string[]): ImageSpec[] {
  const byName = new Map(images.map((image) => [image.name, { ...image }]));
  // Children come after parents in `order`; walk it backwards so needs flow up the chain.
  for (const name of [...order].reverse()) {
    const image = byName.get(name);
    if (!image) continue;
    for (const parent of image.dockerfileFacts.parents) {
      const parentImage = byName.get(parent);
      if (!parentImage) continue;
      parentImage.machines = [...new Set([...parentImage.machines, ...image.machines])];
    }
  }
  return [...byName.values()].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}

/** berth.yaml's `registry` (a prefix or `{ prefix, mirrors }`) as DesiredState fields. */
function registryFields(registry: BerthFile["registry"]): Pick<DesiredState, "registry" | "registryMirrors"> {
  if (registry === undefined) return {};
  if (typeof registry === "string") return { registry };
  return { registry: registry.prefix, ...(registry.mirrors ? { registryMirrors: registry.mirrors } : {}) };
}
