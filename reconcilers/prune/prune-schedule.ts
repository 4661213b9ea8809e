// Runs prune on its cron schedule (node-cron 4, noOverlap); follows schedule changes of the desired state.
import cron from "node-cron";
import type { ScheduledTask, TaskOptions } from "node-cron";
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

/** node-cron's own messages go to berth's structured log (it prints to the console otherwise). */
function cronLogger(logger: Logger): NonNullable<TaskOptions["logger"]> {
  const child = logger.child({ component: "node-cron" });
  return {
    info: (message) => child.debug(message),
    warn: (message) => child.debug(message),
    error: (message, err) => child.error({ err: err ?? message }, typeof message === "string" ? message : message.message),
    debug: (message) => child.debug(typeof message === "string" ? message : message.message),
  };
}

export function validatePruneSchedule(expression: string): string | undefined {
  const detail = cron.validateDetailed(expression);
  return detail.valid ? undefined : `prune.schedule "${expression}" is not a cron expression: ${detail.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`;
}

/**
 * `run` is the whole prune (it takes the host lock itself, so a firing during a build or swap
 * waits for it). node-cron's noOverlap skips a firing while the previous prune still runs; node-cron
 * gives no exactly-once across crashes, which the lock and the idempotent plan make harmless.
 */
export function createPruneScheduler(options: { run: () => Promise<unknown>; logger: Logger; timezone?: string }): PruneScheduler {
  let task: ScheduledTask | undefined;
  let current: string | undefined;
  let overlaps = 0;

  async function fire(): Promise<void> {
    try {
      await options.run();
    } catch (error) {
      options.logger.error({ err: error }, "scheduled prune failed");
    }
  }

  return {
    apply(expression) {
      if (expression === current && task) return;
      const problem = validatePruneSchedule(expression);
      if (problem) throw new Error(problem);
      const previous = task;
      task = cron.schedule(expression, fire, { name: "berth-prune", noOverlap: true, logger: cronLogger(options.logger), ...(options.timezone ? { timezone: options.timezone } : {}) });
      task.on("execution:overlap", () => {
        overlaps += 1;
        options.logger.info({ schedule: expression }, "prune skipped: the previous prune is still running");
      });
      current = expression;
      void previous?.destroy();
      options.logger.info({ schedule: expression, nextRun: task.getNextRun()?.toISOString() }, "prune scheduled");
    },
    get expression() {
      return current;
    },
    nextRun: () => task?.getNextRun() ?? null,
    get overlapsSkipped() {
      return overlaps;
    },
    async stop() {
      const t = task;
      task = undefined;
      current = undefined;
      await t?.destroy();
    },
  };
}
