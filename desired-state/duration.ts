// Durations in the desired state ("90s", "5m", "24h", "1h30m") parsed to seconds.
import { z } from "zod";

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 } satisfies Record<string, number>;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "" || !/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(PART)) {
    const unit = match[2] as keyof typeof UNIT_SECONDS;
    total += Number(match[1]) * UNIT_SECONDS[unit];
  }
  return total;
}

/** A zod schema for a duration string, output in seconds. */
export function durationSchema() {
  return z.string().transform((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === undefined) {
      ctx.addIssue({ code: "custom", message: `"${text}" is not a duration (use e.g. 30s, 5m, 24h)` });
      return z.NEVER;
    }
    return seconds;
  });
}
