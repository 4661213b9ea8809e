// Docker events as a source: container die/destroy/oom/health_status of berth's services
// enqueue their stack's key; the stream is reconnected with `since=` when it drops.
import type { DockerEngine, EngineEvent } from "../../platform/docker-engine.ts";
import { LABELS } from "../../platform/labels.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Clock } from "../../platform/clock.ts";

const ACTIONS = new Set(["die", "destroy", "oom", "stop", "kill"]);

export function isRelevantAction(action: string): boolean {
  // health_status arrives as "health_status: unhealthy" (with the state appended).
  return ACTIONS.has(action) || action.startsWith("health_status");
}

export function watchDockerEvents(options: {
  engine: DockerEngine;
  clock: Clock;
  logger: Logger;
  onStackEvent: (stack: string, action: string) => void;
  /** Every event, for metrics (restarts are counted from `die`). */
  onEvent?: (event: EngineEvent) => void;
  /** Called once the engine answers again after the stream dropped: events may have been missed, so everything is re-listed. */
  onReconnect: () => void;
}): { stop(): void } {
  const controller = new AbortController();
  let since = Math.floor(options.clock.now() / 1000);
  let attempt = 0;
  let dropped = false;
  void (async () => {
    while (!controller.signal.aborted) {
      try {
        await options.engine.events({
          since,
          // Filtered by the engine: health-check execs of every container on the host would
          // otherwise wake the agent several times a second.
          filters: { type: ["container"], event: [...ACTIONS, "health_status"], label: [`${LABELS.managed}=true`] },
          signal: controller.signal,
          onConnected: () => {
            if (!dropped) return;
            dropped = false;
            attempt = 0;
            options.logger.info({}, "docker events stream reconnected");
            options.onReconnect();
          },
          onEvent: (event) => {
            attempt = 0;
            since = Math.max(since, event.time);
            options.onEvent?.(event);
            if (event.type !== "container" || !isRelevantAction(event.action)) return;
            if (event.labels[LABELS.managed] !== "true") return;
            const stack = event.labels[LABELS.stack];
            if (stack) options.onStackEvent(stack, event.action);
          },
        });
      } catch (error) {
        if (controller.signal.aborted) break;
        options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, "docker events stream failed");
      }
      if (controller.signal.aborted) break;
      dropped = true;
      attempt += 1;
      const delay = Math.min(5_000, 250 * 2 ** Math.min(attempt, 5));
      options.logger.info({ delayMs: delay }, "docker events stream ended, reconnecting");
      await options.clock.sleep(delay, controller.signal);
    }
  })();
  return { stop: () => controller.abort() };
}
