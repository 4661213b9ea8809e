// The vulnerability gate's judgement, pure: one image's findings (or its failed scan) and its
// scan settings → counts by severity, the Vulnerable condition, and whether rollouts wait.
import { SEVERITIES } from "../../desired-state/scan-schema.ts";
import type { AllowEntry, ScanSettings, Severity } from "../../desired-state/scan-schema.ts";
import { ImageReason, ServiceReason } from "../../status/reasons.ts";
import type { Finding } from "./scan-report.ts";

export type ScanVerdict = {
  /** Findings by severity, without unfixed ones under ignoreUnfixed and without allowed ones. */
  counts: Record<Severity, number>;
  /** Ids of findings at a failOn severity that no current allow entry covers. */
  blocking: string[];
  /** Ids let through by an allow entry that has not expired. */
  allowed: string[];
  condition: { status: "True" | "False" | "Unknown"; reason: ImageReason; message: string };
  /** Set when rollouts of services using the image wait (the services' Waiting reason and message). */
  hold?: { reason: typeof ServiceReason.VulnerabilitiesFound | typeof ServiceReason.ScanFailed; message: string };
};

/** An allow entry counts through the end of its `expires` day (UTC). */
export function allowedNow(entries: readonly AllowEntry[], now: Date): Set<string> {
  const day = now.toISOString().slice(0, 10);
  return new Set(entries.filter((e) => e.expires >= day).map((e) => e.id.toUpperCase()));
}

export function zeroCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

export function judgeScan(
  image: string,
  scan: { ok: true; findings: readonly Finding[] } | { ok: false; message: string },
  settings: ScanSettings,
  now: Date,
): ScanVerdict {
  const gates = settings.enforce && settings.failOn.length > 0;
  if (!scan.ok) {
    const message = `scan of image ${image} with ${settings.command} failed: ${scan.message}`;
    return {
      counts: zeroCounts(),
      blocking: [],
      allowed: [],
      condition: { status: "Unknown", reason: ImageReason.ScanFailed, message },
      ...(gates ? { hold: { reason: ServiceReason.ScanFailed, message } } : {}),
    };
  }
  const allow = allowedNow(settings.allow, now);
  const counts = zeroCounts();
  const blocking = new Set<string>();
  const allowed = new Set<string>();
  for (const finding of scan.findings) {
    if (settings.ignoreUnfixed && !finding.fixed) continue;
    if (allow.has(finding.id.toUpperCase())) {
      allowed.add(finding.id);
      continue;
    }
    counts[finding.severity] += 1;
    if (settings.failOn.includes(finding.severity)) blocking.add(finding.id);
  }
  const total = SEVERITIES.reduce((n, s) => n + counts[s], 0);
  const summary = SEVERITIES.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(", ");
  const allowedNote = allowed.size > 0 ? `; ${allowed.size} allowed (${[...allowed].sort().join(", ")})` : "";
  const ids = [...blocking].sort();
  const listed = ids.slice(0, 10).join(", ") + (ids.length > 10 ? `, and ${ids.length - 10} more` : "");
  const failOn = `failOn: ${settings.failOn.join(", ")}`;
  const message =
    total === 0
      ? `no vulnerabilities found by ${settings.command}${allowedNote}`
      : blocking.size > 0
        ? `${summary} (${failOn}: ${listed})${allowedNote}${gates ? "" : "; enforce is off, rollouts go ahead"}`
        : `${summary}, ${settings.failOn.length > 0 ? "none at a failOn severity" : "no failOn severities set"}${allowedNote}`;
  return {
    counts,
    blocking: ids,
    allowed: [...allowed].sort(),
    condition:
      total === 0
        ? { status: "False", reason: ImageReason.NoVulnerabilities, message }
        : { status: "True", reason: ImageReason.VulnerabilitiesFound, message },
    ...(gates && blocking.size > 0
      ? {
          hold: {
            reason: ServiceReason.VulnerabilitiesFound,
            message: `image ${image} has vulnerabilities that are not allowed: ${summary} (${failOn}: ${listed})`,
          },
        }
      : {}),
  };
}
