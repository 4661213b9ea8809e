// Real engine: a three-level hierarchy builds in order, a second pass never calls BuildKit, and
// only what changed (base, leaf, a profile variable) is rebuilt, only where it matters.
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { LABELS } from "../../platform/labels.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import type { createImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import type { ImagesResult } from "../../reconcilers/images/images-reconciler.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { createWorld, imagesReconcilerFor, inspectLocal } from "../support/images-world.ts";
import type { World } from "../support/images-world.ts";

describe("images reconciler: hierarchy and change detection (real engine)", () => {
  let world: World;
  const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
  const engine = createDockerEngine();
  let reconcilers: Record<string, ReturnType<typeof createImagesReconciler>>;

  function built(): string[] {
    const names = builder.calls.map((call) => call.image.replace(`${world.prefix}-`, ""));
    builder.reset();
    return names;
  }

  async function pass(machine: string): Promise<ImagesResult> {
    const reconciler = reconcilers[machine];
    if (!reconciler) throw new Error(machine);
    const result = await reconciler.reconcile(world.state(), machine);
    expect(result.outcomes.filter((o) => !o.ok)).toEqual([]);
    return result;
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    world = await createWorld({
      machines: { m1: "p1", m2: "p2" },
      profiles: { p1: { CUDA_ARCH: "8.6", TIER: "small" }, p2: { CUDA_ARCH: "8.6", TIER: "large" } },
    });
    await world.write({ short: "base", dockerfile: "FROM berth-test/busybox:1\nRUN echo base > /base.txt\n" });
    await world.write({ short: "family", dockerfile: `FROM ${world.name("base")}\nRUN echo family > /family.txt\n` });
    await world.write({
      short: "leaf",
      dockerfile: `FROM ${world.name("family")}\nCOPY app.txt /app.txt\n`,
      files: { "app.txt": "v1\n", "notes.md": "ignored\n", ".dockerignore": "*.md\n" },
    });
    await world.write({ short: "tiered", dockerfile: `FROM ${world.name("base")}\nARG TIER\nRUN echo "tier $TIER" > /tier.txt\n` });
    await world.write({ short: "solo", dockerfile: "FROM berth-test/busybox:1\nRUN echo solo > /solo.txt\n" });
    reconcilers = {};
    for (const machine of ["m1", "m2"]) {
      const store = await openStatusStore(await world.newStateDir());
      reconcilers[machine] = imagesReconcilerFor(store, builder, engine);
    }
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("builds a three-level hierarchy parents first, with content tags and labels", async () => {
    const result = await pass("m1");

    expect(built()).toEqual(["base", "family", "leaf", "tiered", "solo"]);
    expect(result.engineUntouched).toBe(false);
    const base = await inspectLocal(result.tags.get(world.name("base")) ?? "");
    const family = await inspectLocal(result.tags.get(world.name("family")) ?? "");
    const leaf = await inspectLocal(result.tags.get(world.name("leaf")) ?? "");
    expect(family?.layers.slice(0, base?.layers.length)).toEqual(base?.layers);
    expect(leaf?.layers.slice(0, family?.layers.length)).toEqual(family?.layers);
    expect(leaf?.labels[LABELS.managed]).toBe("true");
    expect(leaf?.labels[LABELS.inputHash]).toMatch(/^[0-9a-f]{64}$/);
    expect(leaf?.labels["org.opencontainers.image.revision"]).toBe("0123456789abcdef0123456789abcdef01234567");
    expect(result.tags.get(world.name("leaf"))).toMatch(new RegExp(`^berth/${world.name("leaf")}:[0-9a-f]{12}$`));
    expect(result.tags.get(world.name("tiered"))).toMatch(/:[0-9a-f]{12}-m1$/);
    expect(leaf?.tags.some((tag) => /:\d{8}-0123456$/.test(tag))).toBe(true);
    const leafFacts = result.outcomes.find((o) => o.name === world.name("leaf"))?.facts;
    expect(leafFacts?.sharedBytes).toBeGreaterThan(0);
    expect(leafFacts?.sizeBytes).toBeGreaterThan(leafFacts?.sharedBytes ?? 0);
  });

  it("invokes BuildKit zero times on a second pass", async () => {
    const started = performance.now();
    const result = await pass("m1");
    const ms = performance.now() - started;

    expect(built()).toEqual([]);
    expect(result.outcomes.every((o) => o.action === "reuse")).toBe(true);
    expect(result.engineUntouched).toBe(true);
    expect(ms).toBeLessThan(2_000);
  });

  it("shares profile-independent images between machines and builds only what the profile reaches", async () => {
    const result = await pass("m2");

    expect(built()).toEqual(["tiered"]);
    expect(result.tags.get(world.name("tiered"))).toMatch(/-m2$/);
  });

  it("rebuilds the base and exactly its dependents when only the base changes", async () => {
    await world.write({ short: "base", dockerfile: "FROM berth-test/busybox:1\nRUN echo base v2 > /base.txt\n" });

    await pass("m1");

    expect(built()).toEqual(["base", "family", "leaf", "tiered"]);
    await pass("m2");
    expect(built()).toEqual(["tiered"]);
  });

  it("rebuilds only the leaf when only the leaf changes, and ignores files .dockerignore hides", async () => {
    await world.writeFile("leaf", "notes.md", "changed but ignored\n");
    await pass("m1");
    expect(built()).toEqual([]);

    await world.writeFile("leaf", "app.txt", "v2\n");
    await pass("m1");

    expect(built()).toEqual(["leaf"]);
  });

  it("rebuilds images that declare a changed profile variable, only for that machine", async () => {
    world.profiles["p1"] = { CUDA_ARCH: "8.6", TIER: "medium" };

    await pass("m1");
    expect(built()).toEqual(["tiered"]);
    await pass("m2");
    expect(built()).toEqual([]);

    world.profiles["p1"] = { CUDA_ARCH: "9.0", TIER: "medium" };
    await pass("m1");
    expect(built()).toEqual([]);
  });
});
