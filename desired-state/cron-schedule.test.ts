// Cron validation through node-cron: the field at fault, named as people write it, and node-cron's day rule.
import { describe, expect, it } from "vitest";
import { cronProblem, restrictsBothDays } from "./cron-schedule.ts";

describe("cron schedule validation", () => {
  it("accepts what node-cron runs: 5 fields, 6 with seconds, names, ranges and steps", () => {
    for (const expression of ["0 4 * * *", "*/10 * * * * *", "30 2 * * sun", "0 4 1-5 jan *", "0 4 * * 1-5/2", "0 4 * * 7"])
      expect(cronProblem(expression)).toBeUndefined();
  });

  it("names the field and its range when a number is out of range", () => {
    expect(cronProblem("0 25 * * *")).toBe("hour: 25 is outside 0-23");
    expect(cronProblem("61 * * * *")).toBe("minute: 61 is outside 0-59");
    expect(cronProblem("0 4 32 * *")).toBe("day of month: 32 is outside 1-31");
    expect(cronProblem("0 4 * * 8")).toBe("day of week: 8 is outside 0-7");
  });

  it("names the field for a value that is not cron and counts the fields", () => {
    expect(cronProblem("*/0 * * * *")).toBe('minute: "*/0" is not a value, range, step or name');
    expect(cronProblem("0 4 * foo *")).toBe('month: "foo" is not a value, range, step or name');
    expect(cronProblem("every day")).toBe("expected 5 or 6 fields but got 2");
  });

  it("tells when both day fields are restricted (node-cron needs both to match)", () => {
    expect(restrictsBothDays("0 0 13 * 5")).toBe(true);
    expect(restrictsBothDays("0 0 13 * *")).toBe(false);
    expect(restrictsBothDays("0 0 * * 5")).toBe(false);
  });
});
