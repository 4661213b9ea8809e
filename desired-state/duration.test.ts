import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  it.each([
    ["90s", 90],
    ["5m", 300],
    ["24h", 86400],
    ["1h30m", 5400],
    ["250ms", 0.25],
    ["2d", 172800],
  ])("reads %s as %d seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "5", "five minutes", "5 m", "-5s", "5x"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
