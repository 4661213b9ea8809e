// Cron expressions: node-cron's syntax parsed with errors naming the field, and next firings in local time.
import { describe, expect, it } from "vitest";
import { cronProblem, nextCronRun, parseCron } from "./cron-expression.ts";

function next(expression: string, after: string): string | undefined {
  const run = nextCronRun(parseCron(expression), new Date(after));
  if (!run) return undefined;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${run.getFullYear()}-${pad(run.getMonth() + 1)}-${pad(run.getDate())} ${pad(run.getHours())}:${pad(run.getMinutes())}:${pad(run.getSeconds())}`;
}

describe("cron expressions", () => {
  it("fires daily at 04:00, the same day when it is still ahead and the next day otherwise", () => {
    expect(next("0 4 * * *", "2026-11-27T03:59:59")).toBe("2026-11-27 04:00:00");
    expect(next("0 4 * * *", "2026-11-27T04:00:00")).toBe("2026-11-28 04:00:00");
  });

  it("understands steps, ranges, lists and names", () => {
    expect(next("*/15 * * * *", "2026-11-27T10:16:00")).toBe("2026-11-27 10:30:00");
    expect(next("0 9-17/4 * * mon-fri", "2026-11-27T14:00:00")).toBe("2026-11-27 17:00:00"); // a Friday
    expect(next("0 9-17/4 * * mon-fri", "2026-11-27T17:30:00")).toBe("2026-11-30 09:00:00"); // Monday
    expect(next("30 2 1,15 jan,jul *", "2026-11-27T00:00:00")).toBe("2027-01-01 02:30:00");
  });

  it("reads a sixth leading field as seconds", () => {
    expect(next("*/20 * * * * *", "2026-11-27T10:00:05")).toBe("2026-11-27 10:00:20");
  });

  it("treats 7 as Sunday and fires when either day field matches when both are restricted (Vixie cron)", () => {
    expect(next("0 0 * * 7", "2026-11-27T12:00:00")).toBe("2026-11-29 00:00:00");
    expect(next("0 0 1 * sun", "2026-11-27T12:00:00")).toBe("2026-11-29 00:00:00");
    expect(next("0 0 1 * sun", "2026-11-29T12:00:00")).toBe("2026-12-01 00:00:00");
  });

  it("crosses month and year ends, and finds Feb 29 in the next leap year", () => {
    expect(next("0 0 1 * *", "2026-12-31T23:59:59")).toBe("2027-01-01 00:00:00");
    expect(next("0 12 29 2 *", "2026-11-27T00:00:00")).toBe("2028-02-29 12:00:00");
  });

  it("has no next run for a date that never comes", () => {
    expect(next("0 0 31 2 *", "2026-11-27T00:00:00")).toBeUndefined();
  });

  it("names the field at fault in a bad expression", () => {
    expect(cronProblem("0 4 * * *")).toBeUndefined();
    expect(cronProblem("every day")).toBe("expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 2");
    expect(cronProblem("61 4 * * *")).toBe("minute: 61 is outside 0-59");
    expect(cronProblem("0 4 * foo *")).toBe('month: "foo" is not a number or a name');
    expect(cronProblem("0 4 * * 5-1")).toBe('day of week: range "5-1" runs backwards');
    expect(cronProblem("*/0 4 * * *")).toBe('minute: step "0" must be a positive whole number');
    expect(cronProblem("0 4 ,1 * *")).toBe('day of month: "" is not a value, range or step');
  });
});
