// The dependency graph of berth images: topological order, cycles and chains, as pure data.
import type { ImageSpec } from "./desired-state.ts";

export type ImageOrder = { ok: true; order: string[] } | { ok: false; cycle: string[] };

/** Parents before children; ties keep declaration order. A cycle is returned as its chain. */
export function topologicalOrder(images: readonly Pick<ImageSpec, "name" | "dockerfileFacts">[]): ImageOrder {
  const byName = new Map(images.map((image) => [image.name, image]));
  const state = new Map<string, "visiting" | "done">();
  const order: string[] = [];
  const stack: string[] = [];
  function visit(name: string): string[] | undefined {
    const mark = state.get(name);
    if (mark === "done") return undefined;
    if (mark === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const parent of byName.get(name)?.dockerfileFacts.parents ?? []) {
      if (!byName.has(parent)) continue;
      const cycle = visit(parent);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    order.push(name);
    return undefined;
  }
  for (const image of images) {
    const cycle = visit(image.name);
    if (cycle) return { ok: false, cycle };
  }
  return { ok: true, order };
}

/** Every image that (transitively) builds FROM `name`. */
export function dependentsOf(images: readonly Pick<ImageSpec, "name" | "dockerfileFacts">[], name: string): string[] {
  const out = new Set<string>();
  let frontier = [name];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const image of images) {
      if (out.has(image.name)) continue;
      if (image.dockerfileFacts.parents.some((p) => frontier.includes(p))) {
        out.add(image.name);
        next.push(image.name);
      }
    }
    frontier = next;
  }
  return [...out];
}

/** The chain from an image up through its ancestors, e.g. ["app", "family-torch", "base-gpu"]. */
export function ancestryChain(images: readonly Pick<ImageSpec, "name" | "dockerfileFacts">[], name: string): string[] {
  const byName = new Map(images.map((image) => [image.name, image]));
  const chain = [name];
  let current = byName.get(name);
  while (current && current.dockerfileFacts.parents[0] && !chain.includes(current.dockerfileFacts.parents[0])) {
    chain.push(current.dockerfileFacts.parents[0]);
    current = byName.get(current.dockerfileFacts.parents[0]);
  }
  return chain;
}
