// Fixture tests of health assessment: healthy, pending, and each way a new container fails.
import { describe, expect, it } from "vitest";
import type { ContainerDetails } from "../../platform/docker-engine.ts";
import { assessHealth } from "./assess-health.ts";

const NOW = Date.parse("2026-01-01T00:01:00Z");

function details(extra: Partial<ContainerDetails>): ContainerDetails {
  return {
    id: "c",
    name: "web",
    image: "web:v2",
    imageId: "sha256:2",
    labels: {},
    state: "running",
    running: true,
    restarting: false,
    oomKilled: false,
    exitCode: 0,
    startedAt: "2026-01-01T00:00:50Z",
    restartCount: 0,
    pid: 1,
    ...extra,
  };
}

function assess(d: ContainerDetails | undefined, extra: { waitStartedAt?: number; timeoutMs?: number } = {}) {
  return assessHealth({
    details: d,
    now: NOW,
    waitStartedAt: extra.waitStartedAt ?? NOW - 1000,
    timeoutMs: extra.timeoutMs ?? 30_000,
    runSeconds: 3,
    baselineRestartCount: 0,
  });
}

describe("assessHealth", () => {
  it("is healthy when the engine's health check says so", () => {
    expect(assess(details({ health: { status: "healthy", failingStreak: 0 } }))).toEqual({ kind: "healthy" });
  });

  it("fails with the last health check output when unhealthy", () => {
    const verdict = assess(
      details({ health: { status: "unhealthy", failingStreak: 2, lastOutput: "wget: server returned error: HTTP/1.1 500\n" } }),
    );
    expect(verdict).toMatchObject({ kind: "failed", reason: "Unhealthy" });
    expect(verdict.kind === "failed" && verdict.message).toContain("HTTP/1.1 500");
  });

  it("keeps waiting while starting, and times out after the health timeout", () => {
    const starting = details({ health: { status: "starting", failingStreak: 0 } });
    expect(assess(starting).kind).toBe("pending");
    expect(assess(starting, { waitStartedAt: NOW - 31_000 })).toMatchObject({ kind: "failed", reason: "HealthTimeout" });
  });

  it("names the exit code of a container that exited", () => {
    expect(assess(details({ running: false, state: "exited", exitCode: 3 }))).toMatchObject({
      kind: "failed",
      reason: "Exited",
      message: "exited with code 3",
    });
  });

  it("calls out an OOM kill", () => {
    expect(assess(details({ running: false, state: "exited", exitCode: 137, oomKilled: true }))).toMatchObject({
      kind: "failed",
      reason: "OOMKilled",
    });
  });

  it("treats a restart during the wait as a crash loop", () => {
    expect(assess(details({ restartCount: 1 }))).toMatchObject({ kind: "failed", reason: "Restarting" });
    expect(assess(details({ restarting: true, running: true }))).toMatchObject({ kind: "failed", reason: "Restarting" });
  });

  it("without a healthcheck, is healthy after running for the configured seconds", () => {
    expect(assess(details({ startedAt: "2026-01-01T00:00:59Z" })).kind).toBe("pending");
    expect(assess(details({ startedAt: "2026-01-01T00:00:50Z" })).kind).toBe("healthy");
  });

  it("fails when the container is gone", () => {
    expect(assess(undefined)).toMatchObject({ kind: "failed", reason: "Removed" });
  });
});
