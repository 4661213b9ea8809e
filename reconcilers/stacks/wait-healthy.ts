// Waits on a container's engine health (State.Health or "running for N s"), then watches it
// for the monitor window; polls inspect with the injected clock.
import type { Clock } from "../../platform/clock.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import { assessHealth } from "./assess-health.ts";
import type { HealthVerdict } from "./assess-health.ts";

/** An extra check of the monitor window (e.g. the VRAM guard): a failure ends the watch like a failed health check. */
export type MonitorWatch = (containerId: string) => Promise<{ reason: "VramExceeded"; message: string } | undefined>;

export type WaitOptions = { timeoutMs: number; runSeconds: number; pollMs: number; startedAt?: number; watch?: MonitorWatch };

export async function waitUntilHealthy(
  deps: { engine: DockerEngine; clock: Clock },
  containerId: string,
  options: WaitOptions,
): Promise<Exclude<HealthVerdict, { kind: "pending" }>> {
  const waitStartedAt = options.startedAt ?? deps.clock.now();
  const first = await deps.engine.inspectContainer(containerId);
  const baselineRestartCount = first?.restartCount ?? 0;
  let details = first;
  for (;;) {
    const verdict = assessHealth({
      details,
      now: deps.clock.now(),
      waitStartedAt,
      timeoutMs: options.timeoutMs,
      runSeconds: options.runSeconds,
      baselineRestartCount,
    });
    if (verdict.kind !== "pending") return verdict;
    await deps.clock.sleep(options.pollMs);
    details = await deps.engine.inspectContainer(containerId);
  }
}

/** Keeps checking a healthy container for `monitorMs`; the first failure ends the watch. */
export async function monitorHealth(
  deps: { engine: Pick<DockerEngine, "inspectContainer">; clock: Clock },
  containerId: string,
  monitorMs: number,
  options: WaitOptions,
): Promise<Exclude<HealthVerdict, { kind: "pending" }>> {
  const until = deps.clock.now() + monitorMs;
  const baseline = (await deps.engine.inspectContainer(containerId))?.restartCount ?? 0;
  while (deps.clock.now() < until) {
    const details = await deps.engine.inspectContainer(containerId);
    const verdict = assessHealth({
      details,
      now: deps.clock.now(),
      waitStartedAt: deps.clock.now(),
      timeoutMs: Number.POSITIVE_INFINITY,
      runSeconds: 0,
      baselineRestartCount: baseline,
    });
    const failed =
      verdict.kind === "failed" ? verdict : await options.watch?.(containerId).then((f) => f && { kind: "failed" as const, ...f });
    if (failed) return { ...failed, message: `${failed.message} (during the ${Math.round(monitorMs / 1000)}s monitor window)` };
    await deps.clock.sleep(Math.min(options.pollMs, Math.max(0, until - deps.clock.now())));
  }
  return { kind: "healthy" };
}
