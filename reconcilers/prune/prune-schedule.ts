// Runs prune on its cron schedule (one timer to the next firing, never two prunes at once);
// follows schedule changes of the desired state.
import { cronProblem, nextCronRun, parseCron } from "../../desired-state/cron-expression.ts";
import type { CronExpression } from "../../desired-state/cron-expression.ts";
import type { Logger } from "../../platform/logger.ts";

export type PruneScheduler = {
  /** Starts or moves the schedule; a no-op when the expression did not change. Throws on an invalid expression. */
  apply(expression: string): void;
  /** The expression now scheduled, if any. */
  readonly expression: string | undefined;
  nextRun(): Date | null;
  /** Skipped firings because the previous prune was still running. */
  readonly overlapsSkipped: number;
  stop(): Promise<void>;
};

export function validatePruneSchedule(expression: string): string | undefined {
  const problem = cronProblem(expression);
  return problem ? `prune.schedule "${expression}" is not a cron expression: ${problem}` : undefined;
}

/** setTimeout's longest delay; a later firing is reached in several hops. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * `run` is the whole prune (it takes the host lock itself, so a firing during a build or swap
 * waits for it). A firing while the previous prune still runs is skipped and counted. A crash
 * loses at most one firing: the lock and the idempotent plan make a late or repeated run harmless.
 */
export function createPruneScheduler(options: { run: () => Promise<unknown>; logger: Logger }): PruneScheduler {
  let schedule: { cron: CronExpression; next: Date | undefined; timer: ReturnType<typeof setTimeout> | undefined } | undefined;
  let running: Promise<void> | undefined;
  let overlaps = 0;

  function fire(): void {
    if (running) {
      overlaps += 1;
      options.logger.info({ schedule: schedule?.cron.source }, "prune skipped: the previous prune is still running");
      return;
    }
    running = (async () => {
      try {
        await options.run();
      } catch (error) {
        options.logger.error({ err: error instanceof Error ? error.message : String(error) }, "scheduled prune failed");
      } finally {
        running = undefined;
      }
    })();
  }

  function arm(): void {
    if (!schedule) return;
    const current = schedule;
    const next = current.next;
    if (!next) return;
    const delay = next.getTime() - Date.now();
    current.timer = setTimeout(() => {
      if (schedule !== current) return;
      if (Date.now() < next.getTime()) return arm(); // a long wait taken in hops
      fire();
      current.next = nextCronRun(current.cron, new Date(Math.max(Date.now(), next.getTime())));
      arm();
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    current.timer.unref?.();
  }

  function clear(): void {
    if (schedule?.timer) clearTimeout(schedule.timer);
    schedule = undefined;
  }

  return {
    apply(expression) {
      if (expression === schedule?.cron.source) return;
      const problem = validatePruneSchedule(expression);
      if (problem) throw new Error(problem);
      clear();
      const cron = parseCron(expression);
      schedule = { cron, next: nextCronRun(cron, new Date()), timer: undefined };
      arm();
      options.logger.info({ schedule: expression, nextRun: schedule.next?.toISOString() }, "prune scheduled");
    },
    get expression() {
      return schedule?.cron.source;
    },
    nextRun: () => schedule?.next ?? null,
    get overlapsSkipped() {
      return overlaps;
    },
    async stop() {
      clear();
      await running;
    },
  };
}
