// The prune schedule: fires on its cron, never overlaps a prune still running, follows schedule changes.
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../platform/logger.ts";
import { createPruneScheduler, validatePruneSchedule } from "./prune-schedule.ts";
import type { PruneScheduler } from "./prune-schedule.ts";

let scheduler: PruneScheduler | undefined;
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
});

describe("prune schedule", () => {
  it("skips firings while the previous prune is still running", async () => {
    // Arrange: fires every second; each prune takes 2.5 s
    let running = 0;
    let maxConcurrent = 0;
    let runs = 0;
    scheduler = createPruneScheduler({
      logger: silentLogger(),
      run: async () => {
        running += 1;
        runs += 1;
        maxConcurrent = Math.max(maxConcurrent, running);
        await new Promise((r) => setTimeout(r, 2_500));
        running -= 1;
      },
    });

    // Act
    scheduler.apply("* * * * * *");
    await new Promise((r) => setTimeout(r, 4_300));

    // Assert
    expect(maxConcurrent).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
    expect(scheduler.overlapsSkipped).toBeGreaterThanOrEqual(1);
  }, 15_000);

  it("moves to a new expression and keeps the old one when the expression is unchanged", () => {
    // Arrange
    scheduler = createPruneScheduler({ logger: silentLogger(), run: async () => undefined });

    // Act
    scheduler.apply("0 4 * * *");
    const first = scheduler.nextRun();
    scheduler.apply("0 4 * * *");
    const same = scheduler.nextRun();
    scheduler.apply("30 2 * * 0");

    // Assert
    expect(same?.getTime()).toBe(first?.getTime());
    expect(first?.getHours()).toBe(4);
    expect(scheduler.expression).toBe("30 2 * * 0");
    expect(scheduler.nextRun()?.getDay()).toBe(0);
  });

  it("rejects an invalid cron expression with a readable message", () => {
    // Arrange
    scheduler = createPruneScheduler({ logger: silentLogger(), run: async () => undefined });

    // Act / Assert
    expect(validatePruneSchedule("0 4 * * *")).toBeUndefined();
    expect(() => scheduler?.apply("every day")).toThrow(/prune\.schedule "every day" is not a cron expression/);
    expect(scheduler.expression).toBeUndefined();
  });
});

describe("prune schedule on node-cron", () => {
  it("fires on its schedule and stops firing once stopped", async () => {
    // Arrange
    let runs = 0;
    scheduler = createPruneScheduler({ logger: silentLogger(), run: async () => void (runs += 1) });

    // Act
    scheduler.apply("* * * * * *");
    await new Promise((r) => setTimeout(r, 2_300));
    await scheduler.stop();
    const stoppedAt = runs;
    await new Promise((r) => setTimeout(r, 1_300));

    // Assert
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(runs).toBe(stoppedAt);
    expect(scheduler.nextRun()).toBeNull();
  }, 10_000);

  it("matches day of month AND day of week when both are set (node-cron, unlike Vixie cron)", () => {
    // Arrange
    scheduler = createPruneScheduler({ logger: silentLogger(), run: async () => undefined });

    // Act
    scheduler.apply("0 0 13 * 5");
    const next = scheduler.nextRun();

    // Assert: a Friday the 13th, not the next 13th or the next Friday
    expect(next?.getDate()).toBe(13);
    expect(next?.getDay()).toBe(5);
  });
});
