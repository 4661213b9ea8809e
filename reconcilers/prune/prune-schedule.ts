// Runs prune on its cron schedule with node-cron (never two prunes at once); follows schedule
// changes of the desired state.
import { schedule } from "node-cron";
import type { ScheduledTask } from "node-cron";
import { cronProblem, DAY_RULE_HINT, restrictsBothDays } from "../../desired-state/cron-schedule.ts";
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

/**
 * `run` is the whole prune (it takes the host lock itself, so a firing during a build or swap
 * waits for it). A firing while the previous prune still runs is skipped and counted. A crash
 * loses at most one firing: the lock and the idempotent plan make a late or repeated run harmless.
 * node-cron fires in the host's local time; its own messages (e.g. a missed firing) go to our log.
 */
export function createPruneScheduler(options: { run: () => Promise<unknown>; logger: Logger }): PruneScheduler {
  let current: { expression: string; task: ScheduledTask } | undefined;
  let running: Promise<void> | undefined;
  let overlaps = 0;
  const cronLogger = {
    info: (message: string) => options.logger.debug({ detail: message }, "cron scheduler note"),
    warn: (message: string) => options.logger.warn({ detail: message }, "cron scheduler warning"),
    error: (message: string | Error) => options.logger.error({ detail: String(message) }, "cron scheduler error"),
    debug: (message: string | Error) => options.logger.debug({ detail: String(message) }, "cron scheduler note"),
  };

  function fire(): void {
    if (running) {
      overlaps += 1;
      options.logger.info({ schedule: current?.expression }, "prune skipped: the previous prune is still running");
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

  async function clear(): Promise<void> {
    const task = current?.task;
    current = undefined;
    await task?.destroy();
  }

  return {
    apply(expression) {
      if (expression === current?.expression) return;
      const problem = validatePruneSchedule(expression);
      if (problem) throw new Error(problem);
      void clear();
      // The callback returns nothing: node-cron never waits on a prune; `fire` keeps them from overlapping.
      const task = schedule(
        expression,
        () => {
          fire();
        },
        { name: "berth-prune", unref: true, logger: cronLogger },
      );
      current = { expression, task };
      options.logger.info({ schedule: expression, nextRun: task.getNextRun()?.toISOString() }, "prune scheduled");
      if (restrictsBothDays(expression))
        options.logger.warn({ schedule: expression, hint: DAY_RULE_HINT }, "prune schedule restricts both day fields");
    },
    get expression() {
      return current?.expression;
    },
    nextRun: () => current?.task.getNextRun() ?? null,
    get overlapsSkipped() {
      return overlaps;
    },
    async stop() {
      await clear();
      await running;
    },
  };
}
