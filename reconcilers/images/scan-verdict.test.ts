// The gate's judgement from findings and settings: counts, failOn, ignoreUnfixed, allow entries
// with expiry, enforce, and a failed scan.
import { describe, expect, it } from "vitest";
import { scanSettingsFor } from "../../desired-state/scan-schema.ts";
import type { ScanSettings } from "../../desired-state/scan-schema.ts";
import type { Finding } from "./scan-report.ts";
import { judgeScan } from "./scan-verdict.ts";

const NOW = new Date("2026-12-02T10:00:00Z");
const findings: Finding[] = [
  { id: "CVE-2026-0001", severity: "critical", fixed: true },
  { id: "CVE-2026-0002", severity: "critical", fixed: false },
  { id: "CVE-2026-0003", severity: "high", fixed: true },
  { id: "CVE-2026-0004", severity: "low", fixed: false },
];

function settings(overrides: Partial<ScanSettings> = {}): ScanSettings {
  const base = scanSettingsFor({ failOn: ["critical"] }, undefined);
  if (!base) throw new Error("a fleet scan: yields settings");
  return { ...base, ...overrides };
}

describe("judgeScan", () => {
  it("vuln: holds rollouts when findings at a failOn severity are present, naming them", () => {
    const verdict = judgeScan("web", { ok: true, findings }, settings(), NOW);

    expect(verdict.counts).toEqual({ critical: 2, high: 1, medium: 0, low: 1, negligible: 0, unknown: 0 });
    expect(verdict.blocking).toEqual(["CVE-2026-0001", "CVE-2026-0002"]);
    expect(verdict.condition).toEqual({
      status: "True",
      reason: "VulnerabilitiesFound",
      message: "2 critical, 1 high, 1 low (failOn: critical: CVE-2026-0001, CVE-2026-0002)",
    });
    expect(verdict.hold).toEqual({
      reason: "VulnerabilitiesFound",
      message:
        "image web has vulnerabilities that are not allowed: 2 critical, 1 high, 1 low (failOn: critical: CVE-2026-0001, CVE-2026-0002)",
    });
  });

  it("vuln: only warns when no failOn severities are set or enforce is off", () => {
    const noFailOn = judgeScan("web", { ok: true, findings }, settings({ failOn: [] }), NOW);
    const notEnforced = judgeScan("web", { ok: true, findings }, settings({ enforce: false }), NOW);

    expect(noFailOn.hold).toBeUndefined();
    expect(noFailOn.condition).toMatchObject({ status: "True", reason: "VulnerabilitiesFound" });
    expect(noFailOn.condition.message).toBe("2 critical, 1 high, 1 low, no failOn severities set");
    expect(notEnforced.hold).toBeUndefined();
    expect(notEnforced.condition.message).toContain("; enforce is off, rollouts go ahead");
  });

  it("vuln: leaves unfixed findings out with ignoreUnfixed", () => {
    const verdict = judgeScan("web", { ok: true, findings }, settings({ ignoreUnfixed: true }), NOW);

    expect(verdict.counts).toMatchObject({ critical: 1, high: 1, low: 0 });
    expect(verdict.blocking).toEqual(["CVE-2026-0001"]);
  });

  it("vuln: lets allowed findings through until the end of their expiry day, and no longer", () => {
    const allow = [
      { id: "cve-2026-0001", expires: "2026-12-02" },
      { id: "CVE-2026-0002", expires: "2026-12-01" },
    ];
    const verdict = judgeScan("web", { ok: true, findings }, settings({ allow }), NOW);

    expect(verdict.allowed).toEqual(["CVE-2026-0001"]);
    expect(verdict.blocking).toEqual(["CVE-2026-0002"]);
    expect(verdict.counts.critical).toBe(1);
    expect(verdict.condition.message).toContain("; 1 allowed (CVE-2026-0001)");
  });

  it("vuln: releases the hold once every failOn finding is allowed", () => {
    const allow = ["CVE-2026-0001", "CVE-2026-0002"].map((id) => ({ id, expires: "2027-01-31" }));
    const verdict = judgeScan("web", { ok: true, findings }, settings({ allow }), NOW);

    expect(verdict.hold).toBeUndefined();
    expect(verdict.condition).toMatchObject({
      status: "True",
      message: "1 high, 1 low, none at a failOn severity; 2 allowed (CVE-2026-0001, CVE-2026-0002)",
    });
  });

  it("vuln: reports a clean image as not vulnerable", () => {
    const verdict = judgeScan("web", { ok: true, findings: [] }, settings(), NOW);

    expect(verdict.condition).toEqual({ status: "False", reason: "NoVulnerabilities", message: "no vulnerabilities found by trivy" });
    expect(verdict.hold).toBeUndefined();
  });

  it("vuln: makes a failed scan its own reason, holding only when the gate is enforced", () => {
    const failed = { ok: false as const, message: "trivy is not installed on this host" };

    const enforced = judgeScan("web", failed, settings(), NOW);
    const warning = judgeScan("web", failed, settings({ enforce: false }), NOW);

    expect(enforced.condition).toEqual({
      status: "Unknown",
      reason: "ScanFailed",
      message: "scan of image web with trivy failed: trivy is not installed on this host",
    });
    expect(enforced.hold).toEqual({
      reason: "ScanFailed",
      message: "scan of image web with trivy failed: trivy is not installed on this host",
    });
    expect(warning.hold).toBeUndefined();
    expect(warning.condition.reason).toBe("ScanFailed");
  });
});

describe("scanSettingsFor", () => {
  it("vuln: scans nothing unless the fleet, the image or --scan asks", () => {
    expect(scanSettingsFor(undefined, undefined)).toBeUndefined();
    expect(scanSettingsFor(undefined, undefined, true)).toEqual({
      command: "trivy",
      failOn: [],
      ignoreUnfixed: false,
      enforce: true,
      timeoutSeconds: 300,
      maxAgeSeconds: 86400,
      allow: [],
    });
  });

  it("vuln: lets an image override failOn, ignoreUnfixed and enforce, and add allow entries to the fleet's", () => {
    const fleet = {
      command: "grype" as const,
      failOn: ["critical" as const],
      timeout: 60,
      maxAge: 3600,
      allow: [{ id: "CVE-1", expires: "2027-01-01" }],
    };
    const own = { failOn: ["critical" as const, "high" as const], enforce: false, allow: [{ id: "CVE-2", expires: "2027-01-01" }] };

    expect(scanSettingsFor(fleet, own)).toEqual({
      command: "grype",
      failOn: ["critical", "high"],
      ignoreUnfixed: false,
      enforce: false,
      timeoutSeconds: 60,
      maxAgeSeconds: 3600,
      allow: [
        { id: "CVE-1", expires: "2027-01-01" },
        { id: "CVE-2", expires: "2027-01-01" },
      ],
    });
  });
});
