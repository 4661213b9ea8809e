// When the images key looks again at images whose scan failed while the gate holds their rollouts
// (Waiting/ScanFailed): 30 s after the first failure, then doubling per failed pass, at most 5 minutes.
import { getCondition } from "../../status/conditions.ts";
import type { Condition } from "../../status/conditions.ts";
import { ImageReason } from "../../status/reasons.ts";

const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * The delay after a failed scan, from how long the scan has been failing: 30 s, then 60, 120, 240 s
 * (each pass waits as long as the failure lasted so far, plus 30 s), at most 5 minutes.
 */
export function scanRetryDelayMs(failingSince: number, now: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS + Math.max(0, now - failingSince));
}

/** The soonest retry over the images whose `Vulnerable` condition is Unknown/ScanFailed, or undefined when none is. */
export function nextScanRetryMs(statuses: readonly ({ conditions: readonly Condition[] } | undefined)[], now: number): number | undefined {
  const delays = statuses.flatMap((status) => {
    const vulnerable = status ? getCondition(status.conditions, "Vulnerable") : undefined;
    return vulnerable?.status === "Unknown" && vulnerable.reason === ImageReason.ScanFailed
      ? [scanRetryDelayMs(Date.parse(vulnerable.lastTransitionTime), now)]
      : [];
  });
  return delays.length > 0 ? Math.min(...delays) : undefined;
}
