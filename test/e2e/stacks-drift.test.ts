// Real-engine tests of drift self-heal and opt-in removal: containers removed, stopped or
// swapped by hand come back on the next pass; pruning needs prune: true, emptiness allowEmpty.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileStack, reconcileStacks } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createHarness, docker } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

describe("stacks: drift self-heal and removal", () => {
  let h: Harness;
  let v1: string;
  let v2: string;
  let stack: StackSpec;

  beforeAll(async () => {
    h = await createHarness("drift");
    [v1, v2] = await Promise.all([h.buildVersion("v1"), h.buildVersion("v2")]);
    stack = await h.stack(
      "app",
      { web: { image: v1 }, api: { image: v1, dependsOn: ["web"] }, manual: { image: v1, selfHeal: false } },
      { prune: true },
    );
    const result = await reconcileStack(stack.name, await h.context([stack]));
    expect(result.ready).toBe(true);
  });

  afterAll(async () => {
    await h?.cleanup();
  });

  async function running(service: string) {
    return (await h.containers(stack.name)).filter((c) => c.service === service && c.state === "running");
  }

  it("brings back a container removed by hand on the next pass", async () => {
    const [web] = await running("web");
    await docker("rm", "-f", web?.id ?? "");
    const ctx = await h.context([stack]);
    const started = Date.now();
    const pass = reconcileStack(stack.name, ctx);
    while ((await running("web")).length === 0 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
    const runningAfterMs = Date.now() - started;
    const result = await pass;
    if (process.env["BERTH_TEST_REPORT"])
      console.info(`restored container running ${runningAfterMs} ms after the pass began; pass took ${Date.now() - started} ms`);
    expect(result.services.find((s) => s.service === "web")).toMatchObject({ action: "restart", ready: true, reason: "Restored" });
    const after = await running("web");
    expect(after).toHaveLength(1);
    expect(after[0]?.imageId).toBe(await h.imageId(v1));
  });

  it("starts a container stopped by hand", async () => {
    const [api] = await running("api");
    await docker("stop", "-t", "1", api?.id ?? "");
    const result = await reconcileStack(stack.name, await h.context([stack]));
    expect(result.ready).toBe(true);
    expect((await running("api")).map((c) => c.id)).toEqual([api?.id]);
  });

  it("puts the desired image back when a container was swapped to another image by hand", async () => {
    // By hand: the same compose project, brought up from an edited copy of berth's file.
    const effective = join(h.stateDir, "stacks", stack.name, "compose.json");
    const edited = join(h.dir, "edited.json");
    // berth runs an image it does not build pinned to its id: swap that (and any tag) for v2.
    await writeFile(edited, (await readFile(effective, "utf8")).replaceAll(await h.imageId(v1), v2).replaceAll(v1, v2));
    await docker("compose", "-p", stack.name, "--project-directory", stack.dir, "-f", edited, "up", "-d", "--no-deps", "web");
    expect((await running("web")).map((c) => c.imageId)).toEqual([await h.imageId(v2)]);
    const result = await reconcileStack(stack.name, await h.context([stack]));
    expect(result.services.find((s) => s.service === "web")).toMatchObject({ action: "restart", ready: true });
    const after = await running("web");
    expect(after.map((c) => c.imageId)).toEqual([await h.imageId(v1)]);
  });

  it("leaves a service with selfHeal: false alone and reports the drift", async () => {
    const [manual] = await running("manual");
    await docker("rm", "-f", manual?.id ?? "");
    const ctx = await h.context([stack]);
    const result = await reconcileStack(stack.name, ctx);
    expect(result.services.find((s) => s.service === "manual")).toMatchObject({ action: "drifted", ready: false });
    expect(await running("manual")).toHaveLength(0);
    expect(
      getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "manual" })?.conditions ?? [], "Degraded")?.reason,
    ).toBe("Drifted");
  });

  it("removes a service that left the desired state only when the stack has prune: true", async () => {
    const withoutApi = { ...stack, prune: false, services: stack.services.filter((s) => s.name !== "api") };
    await reconcileStack(stack.name, await h.context([withoutApi]));
    expect(await running("api")).toHaveLength(1);
    const pruning = { ...withoutApi, prune: true };
    const result = await reconcileStack(stack.name, await h.context([pruning]));
    expect(result.services.find((s) => s.service === "api")).toMatchObject({ action: "removed" });
    expect((await h.containers(stack.name)).filter((c) => c.service === "api")).toHaveLength(0);
  });

  it("refuses to remove everything when the desired state is empty, unless allowEmpty", async () => {
    const refused = await reconcileStacks(await h.context([]));
    expect(refused.every((r) => !r.ready)).toBe(true);
    expect(await running("web")).toHaveLength(1);
    const ctx = await h.context([]);
    const allowed = await reconcileStacks({ ...ctx, state: { ...ctx.state, allowEmpty: true } });
    expect(allowed.map((r) => r.message)).toEqual([expect.stringMatching(/^removed \d+ container/)]);
    expect(await h.containers(stack.name)).toEqual([]);
    expect(await docker("network", "ls", "-q", "--filter", `label=com.docker.compose.project=${stack.name}`)).toBe("");
  });
});
