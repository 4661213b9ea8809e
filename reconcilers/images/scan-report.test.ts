// Parsing of Trivy's and Grype's JSON reports and database versions, on fixtures written after
// the formats their documentation shows (Trivy schema 2 and the older results array; Grype -o json).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDbVersion, parseScanReport, severityOf } from "./scan-report.ts";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/scan/${name}`, import.meta.url), "utf8");

describe("parseScanReport", () => {
  it("vuln: reads every finding of a Trivy schema-2 report, with severity and whether a fix exists", () => {
    const report = parseScanReport("trivy", fixture("trivy-report.json"));

    expect(report).toEqual({
      ok: true,
      findings: [
        { id: "CVE-2024-45491", severity: "critical", fixed: true, pkg: "libexpat1" },
        { id: "CVE-2023-45853", severity: "critical", fixed: false, pkg: "zlib1g" },
        { id: "CVE-2024-2511", severity: "high", fixed: true, pkg: "libssl3" },
        { id: "CVE-2011-3374", severity: "low", fixed: false, pkg: "apt" },
        { id: "CVE-2024-35195", severity: "medium", fixed: true, pkg: "requests" },
      ],
    });
  });

  it("vuln: reads the results array of older Trivy, where an empty FixedVersion means no fix", () => {
    const report = parseScanReport("trivy", fixture("trivy-report-v0.15.json"));

    expect(report).toEqual({
      ok: true,
      findings: [
        { id: "CVE-2018-16840", severity: "high", fixed: true, pkg: "curl" },
        { id: "CVE-2019-3822", severity: "critical", fixed: false, pkg: "curl" },
      ],
    });
  });

  it("vuln: reads Grype's matches, mapping its severity words and fix states", () => {
    const report = parseScanReport("grype", fixture("grype-report.json"));

    expect(report).toEqual({
      ok: true,
      findings: [
        { id: "CVE-2024-45491", severity: "critical", fixed: true, pkg: "libexpat1" },
        { id: "CVE-2005-2541", severity: "negligible", fixed: false, pkg: "tar" },
        { id: "GHSA-9wx4-h78v-vm56", severity: "medium", fixed: true, pkg: "requests" },
        { id: "CVE-2023-45853", severity: "critical", fixed: false, pkg: "zlib1g" },
      ],
    });
  });

  it("vuln: treats a clean image's report (no Vulnerabilities, no matches) as zero findings", () => {
    expect(parseScanReport("trivy", '{"SchemaVersion":2,"Results":[{"Target":"x (debian 12.8)","Class":"os-pkgs"}]}')).toEqual({
      ok: true,
      findings: [],
    });
    expect(parseScanReport("trivy", '{"SchemaVersion":2,"ArtifactName":"scratch-app"}')).toEqual({ ok: true, findings: [] });
    expect(parseScanReport("grype", '{"matches":[],"descriptor":{"name":"grype"}}')).toEqual({ ok: true, findings: [] });
  });

  it("vuln: refuses output that is not a report, saying what it got", () => {
    const notJson = parseScanReport("trivy", "FATAL image scan error: unable to find the specified image");
    const wrongShape = parseScanReport("grype", '{"matches":[{"artifact":{}}]}');

    expect(notJson).toEqual({
      ok: false,
      message: "trivy printed no JSON report (output starts: FATAL image scan error: unable to find the specified image)",
    });
    expect(wrongShape.ok).toBe(false);
    expect(wrongShape.ok ? "" : wrongShape.message).toMatch(/^not a Grype JSON report: /);
  });

  it("vuln: maps unknown severity words to unknown", () => {
    expect([
      severityOf("CRITICAL"),
      severityOf("Negligible"),
      severityOf("UNKNOWN"),
      severityOf("Important"),
      severityOf(undefined),
    ]).toEqual(["critical", "negligible", "unknown", "unknown", "unknown"]);
  });
});

describe("parseDbVersion", () => {
  it("vuln: reads the database schema and update time from `trivy version --format json`", () => {
    expect(parseDbVersion("trivy", fixture("trivy-version.json"))).toBe("2@2026-11-30T06:12:30.516433433Z");
  });

  it("vuln: reads the database schema and build time from `grype db status -o json` and its older text form", () => {
    expect(parseDbVersion("grype", fixture("grype-db-status.json"))).toBe("v6.0.2@2026-11-29T01:31:40Z");
    const text =
      "Location:  /root/.cache/grype/db/5\nBuilt:     2026-11-29 01:31:40 +0000 UTC\n" +
      "Schema:    5\nChecksum:  sha256:1d2f\nStatus:    valid\n";
    expect(parseDbVersion("grype", text)).toBe("5@2026-11-29 01:31:40 +0000 UTC");
  });

  it("vuln: has no version for a Trivy that has not downloaded its database yet", () => {
    expect(parseDbVersion("trivy", '{"Version":"0.57.1"}')).toBeUndefined();
  });
});
