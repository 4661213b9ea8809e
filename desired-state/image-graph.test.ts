import { describe, expect, it } from "vitest";
import { ancestryChain, dependentsOf, topologicalOrder } from "./image-graph.ts";

const image = (name: string, parents: string[] = []) => ({ name, dockerfileFacts: { fromRefs: parents, parents, declaredArgs: [] } });

describe("image graph", () => {
  const hierarchy = [
    image("family-torch", ["base-gpu"]),
    image("base-python"),
    image("base-gpu", ["base-utils"]),
    image("base-utils", ["base-python"]),
    image("base-cpu-pydeps", ["base-utils"]),
  ];

  it("orders the seed's hierarchy parents first", () => {
    const order = topologicalOrder(hierarchy);
    expect(order.ok).toBe(true);
    if (!order.ok) return;
    for (const item of hierarchy) {
      for (const parent of item.dockerfileFacts.parents) expect(order.order.indexOf(parent)).toBeLessThan(order.order.indexOf(item.name));
    }
  });

  it("returns a cycle as its chain", () => {
    expect(topologicalOrder([image("a", ["b"]), image("b", ["c"]), image("c", ["a"])])).toEqual({ ok: false, cycle: ["a", "b", "c", "a"] });
  });

  it("lists every transitive dependent of a base", () => {
    expect(dependentsOf(hierarchy, "base-utils").sort()).toEqual(["base-cpu-pydeps", "base-gpu", "family-torch"]);
  });

  it("names the chain from a leaf up to its root", () => {
    expect(ancestryChain(hierarchy, "family-torch")).toEqual(["family-torch", "base-gpu", "base-utils", "base-python"]);
  });
});
