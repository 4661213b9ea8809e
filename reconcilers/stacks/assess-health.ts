// Health assessment of a freshly started container, pure: healthy, still pending, or failed and why.
import type { ContainerDetails } from "../../platform/docker-engine.ts";

export type FailureReason =
  "Unhealthy" | "Exited" | "Restarting" | "OOMKilled" | "HealthTimeout" | "Removed" | "VerifyFailed" | "VramExceeded";

export type HealthVerdict =
  { kind: "healthy" } | { kind: "pending"; message: string } | { kind: "failed"; reason: FailureReason; message: string };

export type HealthInput = {
  details: ContainerDetails | undefined;
  /** Unix ms now and when the wait began. */
  now: number;
  waitStartedAt: number;
  timeoutMs: number;
  /** Without a healthcheck, "healthy" means running this long. */
  runSeconds: number;
  /** Restart count when the wait began; any increase is a crash loop. */
  baselineRestartCount: number;
};

export function assessHealth(input: HealthInput): HealthVerdict {
  const { details } = input;
  if (!details) return { kind: "failed", reason: "Removed", message: "the container disappeared" };
  const last = details.health?.lastOutput ? `; last health check output: ${oneLine(details.health.lastOutput)}` : "";
  if (details.oomKilled)
    return { kind: "failed", reason: "OOMKilled", message: `killed for running out of memory (OOM), exit code ${details.exitCode}` };
  if (details.restarting || details.restartCount > input.baselineRestartCount) {
    return {
      kind: "failed",
      reason: "Restarting",
      message: `crash loop: restarted ${details.restartCount - input.baselineRestartCount} time(s), exit code ${details.exitCode}${last}`,
    };
  }
  if (!details.running && details.state !== "created") {
    return { kind: "failed", reason: "Exited", message: `exited with code ${details.exitCode}${last}` };
  }
  const timedOut = input.now - input.waitStartedAt >= input.timeoutMs;
  const seconds = Math.round(input.timeoutMs / 1000);
  if (details.health && details.health.status !== "none") {
    if (details.health.status === "healthy") return { kind: "healthy" };
    if (details.health.status === "unhealthy")
      return {
        kind: "failed",
        reason: "Unhealthy",
        message: `health check failed ${details.health.failingStreak} time(s) in a row${last}`,
      };
    if (timedOut) return { kind: "failed", reason: "HealthTimeout", message: `not healthy within ${seconds}s${last}` };
    return { kind: "pending", message: "health: starting" };
  }
  const startedAt = Date.parse(details.startedAt);
  const runningFor = details.running && Number.isFinite(startedAt) ? input.now - startedAt : 0;
  if (details.running && runningFor >= input.runSeconds * 1000) return { kind: "healthy" };
  if (timedOut) return { kind: "failed", reason: "HealthTimeout", message: `not running for ${input.runSeconds}s within ${seconds}s` };
  return { kind: "pending", message: `running for ${Math.floor(runningFor / 1000)}s of ${input.runSeconds}s` };
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
