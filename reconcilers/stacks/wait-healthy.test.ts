// The monitor window's extra watch (the VRAM guard's hook), on a fake engine and a fake clock.
import { describe, expect, it } from "vitest";
import type { ContainerDetails, DockerEngine } from "../../platform/docker-engine.ts";
import { monitorHealth } from "./wait-healthy.ts";
import type { MonitorWatch } from "./wait-healthy.ts";

const healthy: ContainerDetails = {
  id: "c",
  name: "llm",
  image: "llm:v2",
  imageId: "sha256:2",
  labels: {},
  state: "running",
  running: true,
  restarting: false,
  oomKilled: false,
  exitCode: 0,
  startedAt: "2026-01-01T00:00:00Z",
  restartCount: 0,
  pid: 4242,
  health: { status: "healthy", failingStreak: 0 },
};

function world() {
  let now = Date.parse("2026-01-01T00:01:00Z");
  const engine = { inspectContainer: async () => healthy } satisfies Pick<DockerEngine, "inspectContainer">;
  const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
  return { deps: { engine, clock }, options: { timeoutMs: 10_000, runSeconds: 3, pollMs: 500 } };
}

describe("monitorHealth with a watch", () => {
  it("ends the window with the watch's failure, naming the window", async () => {
    const { deps, options } = world();
    let polls = 0;
    const watch: MonitorWatch = async () =>
      ++polls === 3 ? { reason: "VramExceeded", message: "uses 7044 MiB of VRAM on GPU 0" } : undefined;
    const verdict = await monitorHealth(deps, "c", 10_000, { ...options, watch });
    expect(verdict).toEqual({
      kind: "failed",
      reason: "VramExceeded",
      message: "uses 7044 MiB of VRAM on GPU 0 (during the 10s monitor window)",
    });
    expect(polls).toBe(3);
  });

  it("stays healthy through the window when the watch finds nothing", async () => {
    const { deps, options } = world();
    let polls = 0;
    const verdict = await monitorHealth(deps, "c", 2_000, { ...options, watch: async () => void polls++ });
    expect(verdict).toEqual({ kind: "healthy" });
    expect(polls).toBe(4);
  });
});
