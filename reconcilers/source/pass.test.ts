import { describe, expect, it } from "vitest";
import { done, reconcileKey, terminal, transient } from "../reconciler.ts";
import type { Reconciler, ReconcilerMap } from "../reconciler.ts";
import { createPasses } from "./pass.ts";

const images = { kind: "images" } as const;
const stack = (name: string) => ({ kind: "stack", name }) as const;

describe("Pass", () => {
  it("completes Applied once the images and every stack are Ready", () => {
    const pass = createPasses().begin("r1", ["web", "db"], { startedAt: 0 });

    const steps = [pass.record(images, done()), pass.record(stack("web"), done()), pass.record(stack("db"), done())];

    expect(steps).toEqual(["pending", "pending", "completed"]);
    expect(pass.isComplete()).toBe(true);
    expect(pass.hostReady()).toEqual({ type: "Ready", status: "True", reason: "Applied", message: "revision r1 applied" });
  });

  it("waits for the images outcome even when every stack already has one", () => {
    const pass = createPasses().begin("r1", ["web"], { startedAt: 0 });

    expect(pass.record(stack("web"), done())).toBe("pending");
    expect(pass.isComplete()).toBe(false);
    expect(pass.record(images, done())).toBe("completed");
  });

  it("completes, not Ready, when a stack's reconcile throws", async () => {
    const throwing: Reconciler<"stack"> = {
      reconcile: async () => {
        throw new Error("compose exited 1");
      },
    };
    const idle = { reconcile: async () => done() };
    const reconcilers: ReconcilerMap = { git: idle, source: idle, images: idle, prune: idle, stack: throwing };
    const pass = createPasses().begin("r1", ["web", "db"], { startedAt: 0 });
    pass.record(images, done());
    pass.record(stack("db"), done());

    const outcome = await reconcileKey(reconcilers, stack("web"), new AbortController().signal);
    const step = pass.record(stack("web"), outcome);

    expect(outcome).toEqual(transient("ReconcileFailed", "compose exited 1"));
    expect(step).toBe("completed");
    expect(pass.ok()).toBe(false);
    expect(pass.hostReady()).toMatchObject({ status: "False", reason: "ResourcesNotReady" });
  });

  it("is not Ready when the images failed or a stack ended terminal", () => {
    const passes = createPasses();
    const first = passes.begin("r1", ["web"], { startedAt: 0 });
    first.record(images, done(false));
    first.record(stack("web"), done());
    const second = passes.begin("r2", ["web"], { startedAt: 1 });
    second.record(images, done());
    second.record(stack("web"), terminal("PolicyDenied", "privileged"));

    expect([first.ok(), second.ok()]).toEqual([false, false]);
    expect(second.hostReady().reason).toBe("ResourcesNotReady");
  });

  it("ignores outcomes for a pass a newer revision superseded, and completes the newer one", () => {
    const passes = createPasses();
    const old = passes.begin("r1", ["web", "db"], { startedAt: 0 });
    old.record(images, done());
    old.record(stack("web"), done());
    const next = passes.begin("r2", ["web"], { startedAt: 5 });

    const late = old.record(stack("db"), done(false));
    next.record(images, done());
    const step = next.record(stack("web"), done());

    expect(late).toBe("superseded");
    expect(old.isComplete()).toBe(false);
    expect(passes.current()).toBe(next);
    expect(step).toBe("completed");
    expect(next.hostReady()).toMatchObject({ status: "True", message: "revision r2 applied" });
    expect(passes.completedOnce()).toBe(true);
  });

  it("counts a stack reconciled again after completion as outside the pass", () => {
    const pass = createPasses().begin("r1", ["web"], { startedAt: 0 });
    pass.record(images, done());
    pass.record(stack("web"), done());

    expect(pass.record(stack("web"), done(false))).toBe("outside");
    expect(pass.ok()).toBe(true);
    expect(pass.hostReadyWith(false)).toMatchObject({ status: "False", reason: "ResourcesNotReady" });
    expect(pass.hostReadyWith(true)).toMatchObject({ status: "True", reason: "Applied" });
  });

  it("refuses an empty desired state that would remove running stacks", () => {
    const passes = createPasses();
    const pass = passes.begin("r3", [], { startedAt: 0, refused: ["shop", "web"] });

    expect(passes.completedOnce()).toBe(false);
    expect(pass.record(images, done())).toBe("completed");
    expect(pass.ok()).toBe(false);
    expect(pass.hostReady()).toEqual({
      type: "Ready",
      status: "False",
      reason: "EmptyDesiredStateRefused",
      message: "the desired state has no stacks; keeping shop, web (set allowEmpty: true in berth.yaml to remove everything)",
    });
    expect(pass.hostReadyWith(true)).toBeUndefined();
  });
});
