// Parses what Trivy and Grype print: the JSON vulnerability report of one image (findings with
// severity and whether a fix exists) and the version of the scanner's vulnerability database.
import { z } from "zod";
import { SEVERITIES } from "../../desired-state/scan-schema.ts";
import type { Severity } from "../../desired-state/scan-schema.ts";

export type Finding = { id: string; severity: Severity; fixed: boolean; pkg?: string };

export type ParsedReport = { ok: true; findings: Finding[] } | { ok: false; message: string };

const trivyVulnerability = z.looseObject({
  VulnerabilityID: z.string(),
  PkgName: z.string().optional(),
  Severity: z.string().optional(),
  FixedVersion: z.string().optional(),
  /** Trivy ≥ 0.40: fixed, affected, will_not_fix, fix_deferred, end_of_life, … */
  Status: z.string().optional(),
});
const trivyResult = z.looseObject({ Target: z.string().optional(), Vulnerabilities: z.array(trivyVulnerability).nullish() });
/** Schema 2 (Trivy ≥ 0.20) is an object with Results; older Trivy printed the results array itself. */
const trivyReport = z.union([z.looseObject({ Results: z.array(trivyResult).nullish() }), z.array(trivyResult)]);

const grypeReport = z.looseObject({
  matches: z.array(
    z.looseObject({
      vulnerability: z.looseObject({
        id: z.string(),
        severity: z.string().optional(),
        fix: z.looseObject({ versions: z.array(z.string()).nullish(), state: z.string().optional() }).optional(),
      }),
      artifact: z.looseObject({ name: z.string().optional() }).optional(),
    }),
  ),
});

/** Trivy's and Grype's severity words (CRITICAL, High, Negligible, …) → ours; anything else is unknown. */
export function severityOf(word: string | undefined): Severity {
  const lower = (word ?? "").toLowerCase();
  return SEVERITIES.find((s) => s === lower) ?? "unknown";
}

export function parseScanReport(command: "trivy" | "grype", stdout: string): ParsedReport {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    const start = stdout.trim().slice(0, 120);
    return { ok: false, message: `${command} printed no JSON report${start ? ` (output starts: ${start})` : " (empty output)"}` };
  }
  if (command === "trivy") {
    const parsed = trivyReport.safeParse(json);
    if (!parsed.success) return { ok: false, message: `not a Trivy JSON report: ${z.prettifyError(parsed.error).split("\n")[0] ?? ""}` };
    const results = Array.isArray(parsed.data) ? parsed.data : (parsed.data.Results ?? []);
    return {
      ok: true,
      findings: results.flatMap((r) =>
        (r.Vulnerabilities ?? []).map((v) => ({
          id: v.VulnerabilityID,
          severity: severityOf(v.Severity),
          fixed: v.Status !== undefined ? v.Status === "fixed" : Boolean(v.FixedVersion),
          ...(v.PkgName ? { pkg: v.PkgName } : {}),
        })),
      ),
    };
  }
  const parsed = grypeReport.safeParse(json);
  if (!parsed.success) return { ok: false, message: `not a Grype JSON report: ${z.prettifyError(parsed.error).split("\n")[0] ?? ""}` };
  return {
    ok: true,
    findings: parsed.data.matches.map((m) => ({
      id: m.vulnerability.id,
      severity: severityOf(m.vulnerability.severity),
      fixed: m.vulnerability.fix?.state === "fixed" || (m.vulnerability.fix?.versions?.length ?? 0) > 0,
      ...(m.artifact?.name ? { pkg: m.artifact.name } : {}),
    })),
  };
}

const trivyVersion = z.looseObject({
  Version: z.string().optional(),
  VulnerabilityDB: z.looseObject({ Version: z.number().optional(), UpdatedAt: z.string() }).nullish(),
});
const grypeDbStatus = z.looseObject({ built: z.string(), schemaVersion: z.union([z.string(), z.number()]).optional() });

/**
 * The scanner's database version, from `trivy version --format json` or `grype db status -o json`
 * (older Grype prints `Built: …` lines instead); undefined when the scanner has no database yet.
 */
export function parseDbVersion(command: "trivy" | "grype", stdout: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    const built = /^\s*Built:\s*(\S.*)$/m.exec(stdout)?.[1]?.trim();
    const schema = /^\s*Schema:\s*(\S+)/m.exec(stdout)?.[1];
    return command === "grype" && built ? `${schema ?? "?"}@${built}` : undefined;
  }
  if (command === "trivy") {
    const db = trivyVersion.safeParse(json).data?.VulnerabilityDB;
    return db ? `${db.Version ?? "?"}@${db.UpdatedAt}` : undefined;
  }
  const status = grypeDbStatus.safeParse(json).data;
  return status ? `${status.schemaVersion ?? "?"}@${status.built}` : undefined;
}
