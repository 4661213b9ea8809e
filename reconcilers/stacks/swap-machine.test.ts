// The swap machine over a small in-memory host: every phase of both strategies, live and resumed after a crash.
import { describe, expect, it } from "vitest";
import type { IntentAttachment, SwapIntent } from "../../status/swap-intent.ts";
import { advance, olderRecordLeftovers, outcomeOf, resumeIntended, runSwap } from "./swap-machine.ts";
import type { IntentAt, SwapSteps } from "./swap-machine.ts";

type Box = { version: string; running: boolean; networks: string[] };
type Behaviour = "healthy" | "unhealthy" | "fails-in-monitor" | "compose-fails";

/** A host with one service: its containers, the version in its effective file, and the intent records written. */
type Host = { boxes: Map<string, Box>; file: string; records: SwapIntent[]; previous?: string; behaviour: Behaviour };

const NETS: IntentAttachment[] = [{ network: "default", aliases: ["web"] }];

function host(behaviour: Behaviour, previous: string | null = "v1"): Host {
  const boxes = new Map<string, Box>();
  if (previous) boxes.set("old", { version: previous, running: true, networks: ["default"] });
  return { boxes, file: previous ?? "", records: [], behaviour, ...(previous ? { previous } : {}) };
}

/** Versions that answer on the service's name. */
function serving(h: Host): string[] {
  return [...h.boxes.values()].filter((b) => b.running && b.networks.includes("default")).map((b) => b.version);
}

function steps(h: Host): SwapSteps {
  const version = (intent: SwapIntent) => String(intent.to.config["image"]);
  return {
    persist: (intent) => Promise.resolve(void h.records.push(intent)),
    create(intent) {
      if (h.behaviour === "compose-fails") return Promise.resolve({ kind: "failed", reason: "ComposeFailed", message: "no" });
      h.file = version(intent);
      if (intent.strategy === "recreate") {
        h.boxes.delete("old");
        h.boxes.set("new", { version: version(intent), running: true, networks: ["default"] });
        return Promise.resolve({ kind: "created", container: "new", createdAt: 5, attachments: [], fromAttachments: [] });
      }
      h.boxes.set("new", { version: version(intent), running: false, networks: [] });
      return Promise.resolve({ kind: "created", container: "new", createdAt: 5, attachments: NETS, fromAttachments: NETS });
    },
    awaitHealthy(intent) {
      const box = h.boxes.get(intent.container);
      if (!box) return Promise.resolve({ kind: "failed", reason: "Removed", message: "gone" });
      box.running = true;
      return Promise.resolve(
        h.behaviour === "unhealthy" ? { kind: "failed", reason: "Unhealthy", message: "health check failed" } : { kind: "healthy" },
      );
    },
    cutOver(intent) {
      if (intent.strategy === "start-first") {
        h.boxes.get(intent.container)?.networks.push(...intent.attachments.map((a) => a.network));
        const from = h.boxes.get(intent.from);
        if (from) from.networks = [];
      }
      return Promise.resolve();
    },
    monitor() {
      return Promise.resolve(
        h.behaviour === "fails-in-monitor"
          ? { kind: "failed", reason: "Unhealthy", message: "in the monitor window" }
          : { kind: "healthy" },
      );
    },
    retire(intent) {
      if (intent.strategy === "start-first") h.boxes.delete(intent.from);
      return Promise.resolve(`sha256:${h.boxes.get(intent.container)?.version ?? ""}`);
    },
    rollBack(intent) {
      h.boxes.delete("new");
      if (intent.strategy === "start-first" && h.boxes.has(intent.from)) {
        const from = h.boxes.get(intent.from);
        if (from && intent.phase !== "Intended") from.networks = intent.fromAttachments.map((a) => a.network);
        h.file = h.previous ?? h.file;
        return Promise.resolve({ kind: "restored" });
      }
      if (!h.previous) return Promise.resolve({ kind: "nothing" });
      h.boxes.set("old", { version: h.previous, running: true, networks: ["default"] });
      h.file = h.previous;
      return Promise.resolve({ kind: "restored" });
    },
  };
}

const BASE = {
  stack: "shop",
  service: "web",
  revision: "rev-2",
  startedAt: 1,
  to: { specHash: "hash-v2", config: { image: "v2" } },
  record: { revision: "rev-2", config: { image: "v2" } },
};

function intended(strategy: "recreate" | "start-first"): IntentAt<"Intended"> {
  return strategy === "recreate" ? { ...BASE, strategy, phase: "Intended" } : { ...BASE, strategy, from: "old", phase: "Intended" };
}

/** The record a crash left at `phase` (after the step that reached it), with the host as that step left it. */
function crashedAt(strategy: "recreate" | "start-first", phase: "Created" | "Healthy" | "CutOver", behaviour: Behaviour) {
  const h = host(behaviour);
  const fresh = { version: "v2", running: phase !== "Created" || strategy === "recreate", networks: [] as string[] };
  if (strategy === "recreate") {
    h.boxes.delete("old");
    fresh.networks.push("default");
  } else if (phase === "CutOver") {
    fresh.networks.push("default");
    const old = h.boxes.get("old");
    if (old) old.networks = [];
  }
  h.boxes.set("new", fresh);
  h.file = "v2";
  const at = { container: "new", createdAt: 5 };
  const intent: SwapIntent =
    strategy === "recreate"
      ? { ...BASE, strategy, phase, ...at }
      : { ...BASE, strategy, from: "old", phase, ...at, attachments: NETS, fromAttachments: NETS };
  return { h, intent };
}

describe("swap machine: live swaps", () => {
  it("takes a recreate swap through every phase to Done, recording each one", async () => {
    const h = host("healthy");

    const end = await runSwap(steps(h), intended("recreate"));

    expect(h.records.map((r) => r.phase)).toEqual(["Created", "Healthy", "CutOver", "Done"]);
    expect(serving(h)).toEqual(["v2"]);
    expect(outcomeOf(end, 9)).toEqual({
      kind: "rolled-out",
      entry: { imageId: "sha256:v2", tag: "", revision: "rev-2", specHash: "hash-v2", config: { image: "v2" }, recordedAt: 9 },
    });
  });

  it("keeps the old container serving a start-first swap until the cut-over", async () => {
    const h = host("healthy");
    const s = steps(h);
    const seen: string[][] = [];

    let intent: SwapIntent = intended("start-first");
    while (intent.phase !== "Done" && intent.phase !== "RolledBack") {
      intent = await advance(s, intent);
      seen.push(serving(h));
    }

    expect(h.records.map((r) => r.phase)).toEqual(["Created", "Healthy", "CutOver", "Done"]);
    expect(seen).toEqual([["v1"], ["v1"], ["v2"], ["v2"]]);
    expect([...h.boxes.keys()]).toEqual(["new"]);
  });

  it.each(["recreate", "start-first"] as const)("rolls a %s swap back when the new container turns unhealthy", async (strategy) => {
    const h = host("unhealthy");

    const end = await runSwap(steps(h), intended(strategy));

    expect(h.records.map((r) => r.phase)).toEqual(["Created", "RolledBack"]);
    expect(serving(h)).toEqual(["v1"]);
    expect(h.file).toBe("v1");
    expect(outcomeOf(end, 9)).toEqual({
      kind: "rolled-back",
      failure: { reason: "Unhealthy", message: "health check failed" },
      restored: true,
    });
  });

  it("gives a start-first swap's old container its networks back when the new one fails in the monitor window", async () => {
    const h = host("fails-in-monitor");

    const end = await runSwap(steps(h), intended("start-first"));

    expect(h.records.map((r) => r.phase)).toEqual(["Created", "Healthy", "CutOver", "RolledBack"]);
    expect(serving(h)).toEqual(["v1"]);
    expect(h.boxes.has("new")).toBe(false);
    expect(end.phase === "RolledBack" && end.failure.message).toBe("in the monitor window");
  });

  it("rolls back before anything was created when compose fails", async () => {
    const h = host("compose-fails");

    const end = await runSwap(steps(h), intended("start-first"));

    expect(h.records.map((r) => r.phase)).toEqual(["RolledBack"]);
    expect(serving(h)).toEqual(["v1"]);
    expect(outcomeOf(end, 9).kind).toBe("rolled-back");
  });

  it("reports a failure, not a rollback, when no version ran before", async () => {
    const h = host("unhealthy", null);

    const end = await runSwap(steps(h), intended("recreate"));

    expect(serving(h)).toEqual([]);
    expect(outcomeOf(end, 9)).toEqual({ kind: "failed", failure: { reason: "Unhealthy", message: "health check failed" } });
  });

  it("keeps only what every phase knows in the finished record", async () => {
    const end = await runSwap(steps(host("healthy")), intended("start-first"));

    expect(end).toEqual({ ...BASE, strategy: "start-first", from: "old", phase: "Done", imageId: "sha256:v2" });
  });
});

describe("swap machine: recovery from each recorded phase", () => {
  const containers = [
    { id: "old", specHash: "hash-v1", state: "running", created: 1 },
    { id: "half", specHash: "hash-v2", state: "created", created: 2 },
  ];

  it("adopts the container compose finished for a recreate swap recorded at Intended", () => {
    const resumed = resumeIntended(intended("recreate"), [{ ...containers[1]!, state: "running" }]);

    expect(resumed).toEqual({ kind: "resume", intent: { ...intended("recreate"), phase: "Created", container: "half", createdAt: 1 } });
  });

  it("leaves a recreate swap recorded at Intended to the plan when compose made no container", () => {
    expect(resumeIntended(intended("recreate"), containers.slice(0, 1))).toEqual({ kind: "discard", remove: [] });
  });

  it("removes the unconfirmed new container of a start-first swap recorded at Intended, never the old one", () => {
    expect(resumeIntended(intended("start-first"), containers)).toEqual({ kind: "discard", remove: ["half"] });
  });

  it("removes only the unconfirmed new container of a start-first swap an older berth recorded (no phase)", () => {
    const older = { stack: "shop", service: "web", toSpecHash: "hash-v2", toRevision: "rev-2", startedAt: 1 };

    expect(olderRecordLeftovers({ ...older, strategy: "start-first", fromContainerId: "old" }, containers)).toEqual(["half"]);
    expect(olderRecordLeftovers({ ...older, strategy: "recreate" }, containers)).toEqual([]);
    expect(olderRecordLeftovers(older, containers)).toEqual([]);
  });

  it.each(["recreate", "start-first"] as const)("finishes a %s swap recorded at Created once its container turns healthy", async (s) => {
    const { h, intent } = crashedAt(s, "Created", "healthy");

    const end = await runSwap(steps(h), intent);

    expect(end.phase).toBe("Done");
    expect(serving(h)).toEqual(["v2"]);
    expect([...h.boxes.keys()]).toEqual(["new"]);
  });

  it.each(["recreate", "start-first"] as const)("reverts a %s swap recorded at Created whose container turns unhealthy", async (s) => {
    const { h, intent } = crashedAt(s, "Created", "unhealthy");

    const end = await runSwap(steps(h), intent);

    expect(end.phase).toBe("RolledBack");
    expect(serving(h)).toEqual(["v1"]);
    expect(h.file).toBe("v1");
  });

  it("cuts a start-first swap recorded at Healthy over and retires the old container", async () => {
    const { h, intent } = crashedAt("start-first", "Healthy", "healthy");
    expect(serving(h)).toEqual(["v1"]);

    const end = await runSwap(steps(h), intent);

    expect(h.records.map((r) => r.phase)).toEqual(["CutOver", "Done"]);
    expect(end.phase).toBe("Done");
    expect(serving(h)).toEqual(["v2"]);
  });

  it.each(["recreate", "start-first"] as const)("finishes a %s swap recorded at CutOver after the monitor window", async (s) => {
    const { h, intent } = crashedAt(s, "CutOver", "healthy");

    const end = await runSwap(steps(h), intent);

    expect(h.records.map((r) => r.phase)).toEqual(["Done"]);
    expect(outcomeOf(end, 9).kind).toBe("rolled-out");
    expect([...h.boxes.keys()]).toEqual(["new"]);
  });

  it.each(["recreate", "start-first"] as const)("reverts a %s swap recorded at CutOver that fails in the monitor window", async (s) => {
    const { h, intent } = crashedAt(s, "CutOver", "fails-in-monitor");

    const end = await runSwap(steps(h), intent);

    expect(end.phase).toBe("RolledBack");
    expect(serving(h)).toEqual(["v1"]);
    expect(h.boxes.has("new")).toBe(false);
  });

  it("records a swap recorded at Done without touching the host", async () => {
    const h = host("healthy", "v2");
    const done: SwapIntent = { ...BASE, strategy: "recreate", phase: "Done", imageId: "sha256:v2" };

    const end = await runSwap(steps(h), done);

    expect(h.records).toEqual([]);
    expect(outcomeOf(end, 9)).toMatchObject({ kind: "rolled-out", entry: { imageId: "sha256:v2", revision: "rev-2" } });
  });

  it("records a swap recorded at RolledBack as the rollback it was", async () => {
    const rolledBack: SwapIntent = {
      ...BASE,
      strategy: "start-first",
      from: "old",
      phase: "RolledBack",
      failure: { reason: "HealthTimeout", message: "not healthy within 20s" },
      restore: { kind: "not-restored", message: "exited with code 1" },
    };

    expect(outcomeOf(await runSwap(steps(host("healthy")), rolledBack), 9)).toEqual({
      kind: "rolled-back",
      failure: { reason: "HealthTimeout", message: "not healthy within 20s" },
      restored: false,
      restoreMessage: "exited with code 1",
    });
  });
});
