// The gate's cache over a scripted scanner (no engine, no real scanner): a result is reused for
// the same image id while the database version holds and maxAge has not passed.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanSettingsFor } from "../../desired-state/scan-schema.ts";
import type { ScanSettings } from "../../desired-state/scan-schema.ts";
import { silentLogger } from "../../platform/logger.ts";
import type { ScannerRun, VulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import { createScanGate } from "./scan-gate.ts";

const REPORT = JSON.stringify({
  SchemaVersion: 2,
  Results: [{ Target: "t", Vulnerabilities: [{ VulnerabilityID: "CVE-2026-0001", Severity: "CRITICAL", FixedVersion: "1.1" }] }],
});

function scriptedScanner(world: { db: string; report: string; missing?: boolean }): VulnerabilityScanner & { scans: string[] } {
  const scans: string[] = [];
  const missing: ScannerRun = { ok: false, message: "trivy is not installed on this host" };
  return {
    scans,
    async scan(_command, ref) {
      if (world.missing) return missing;
      scans.push(ref);
      return { ok: true, stdout: world.report };
    },
    async dbStatus() {
      if (world.missing) return missing;
      return { ok: true, stdout: JSON.stringify({ VulnerabilityDB: { Version: 2, UpdatedAt: world.db } }) };
    },
  };
}

function fail(): never {
  throw new Error("scan settings expected");
}

describe("createScanGate", () => {
  let dir: string;
  let clock: number;
  const settings: ScanSettings = scanSettingsFor({ failOn: ["critical"], maxAge: 3600 }, undefined, true) ?? fail();
  const image = { name: "web", ref: "berth/web:abc", imageId: "sha256:aaa" };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "vuln-gate-"));
    clock = Date.parse("2026-12-02T10:00:00Z");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function gate(scanner: VulnerabilityScanner, dbCheckSeconds = 0) {
    return createScanGate({ scanner, stateDir: dir, now: () => new Date(clock), logger: silentLogger(), dbCheckSeconds });
  }

  it("vuln: scans an image once and reuses the result, also from a new process reading the state dir", async () => {
    const scanner = scriptedScanner({ db: "2026-12-01T00:00:00Z", report: REPORT });

    const first = await gate(scanner).assess(image, settings);
    clock += 60_000;
    const again = await gate(scanner).assess(image, settings);

    expect(scanner.scans).toEqual(["berth/web:abc"]);
    expect(again).toEqual(first);
    expect(first.facts).toMatchObject({
      imageId: "sha256:aaa",
      scanner: "trivy",
      dbVersion: "2@2026-12-01T00:00:00Z",
      blocking: ["CVE-2026-0001"],
    });
    expect(JSON.parse(await readFile(join(dir, "scan-cache.json"), "utf8"))).toMatchObject({ version: 1 });
  });

  it("vuln: scans again when the scanner's database changes, when maxAge passes, and for another image id", async () => {
    const world = { db: "2026-12-01T00:00:00Z", report: REPORT };
    const scanner = scriptedScanner(world);
    const g = gate(scanner);
    await g.assess(image, settings);

    world.db = "2026-12-02T06:00:00Z";
    await g.assess(image, settings);
    clock += 3601_000;
    await g.assess(image, settings);
    await g.assess({ ...image, imageId: "sha256:bbb" }, settings);
    await g.assess(image, settings);

    expect(scanner.scans).toHaveLength(4);
  });

  it("vuln: asks the scanner for its database version at most every dbCheckSeconds", async () => {
    const world = { db: "2026-12-01T00:00:00Z", report: REPORT };
    const scanner = scriptedScanner(world);
    const g = gate(scanner, 600);
    await g.assess(image, settings);

    world.db = "2026-12-02T06:00:00Z";
    clock += 60_000;
    await g.assess(image, settings);
    clock += 600_000;
    await g.assess(image, settings);

    expect(scanner.scans).toHaveLength(2);
  });

  it("vuln: does not cache a failed scan: the next pass tries again", async () => {
    const world = { db: "2026-12-01T00:00:00Z", report: REPORT, missing: true };
    const scanner = scriptedScanner(world);
    const g = gate(scanner);

    const failed = await g.assess(image, settings);
    world.missing = false;
    const ok = await g.assess(image, settings);

    expect(failed.facts).toEqual({ imageId: "sha256:aaa", scanner: "trivy", failed: "trivy is not installed on this host" });
    expect(failed.verdict.hold?.reason).toBe("ScanFailed");
    expect(ok.verdict.hold?.reason).toBe("VulnerabilitiesFound");
  });
});
