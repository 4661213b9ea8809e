// The retry of failed scans, as logic: the backoff and which image statuses ask for one.
import { describe, expect, it } from "vitest";
import type { Condition } from "../../status/conditions.ts";
import { nextScanRetryMs, scanRetryDelayMs } from "./scan-retry.ts";

const T0 = Date.UTC(2026, 11, 2);

function vulnerable(status: Condition["status"], reason: string, since: number): { conditions: Condition[] } {
  return { conditions: [{ type: "Vulnerable", status, reason, message: "", lastTransitionTime: new Date(since).toISOString() }] };
}

describe("retrying failed scans", () => {
  it("waits 30 s after the first failure, then doubles per failed pass up to 5 minutes", () => {
    let now = T0;
    const delays: number[] = [];
    for (let pass = 0; pass < 7; pass++) {
      const delay = scanRetryDelayMs(T0, now);
      delays.push(delay / 1000);
      now += delay;
    }

    expect(delays).toEqual([30, 60, 120, 240, 300, 300, 300]);
  });

  it("takes the soonest retry over the images whose scan failed and ignores the others", () => {
    const statuses = [
      vulnerable("Unknown", "ScanFailed", T0),
      vulnerable("Unknown", "ScanFailed", T0 + 90_000),
      vulnerable("True", "VulnerabilitiesFound", T0 + 100_000),
      { conditions: [] },
      undefined,
    ];

    expect(nextScanRetryMs(statuses, T0 + 100_000)).toBe(40_000);
    expect(nextScanRetryMs(statuses.slice(2), T0 + 100_000)).toBeUndefined();
  });
});
