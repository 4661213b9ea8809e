// The vulnerability gate's shell: scans an image with the host's scanner unless the state dir's
// cache holds a result for its id taken with the scanner's current database within maxAge, then
// judges the findings (scan-verdict.ts). The database version is asked at most every few minutes.
import type { ScanSettings } from "../../desired-state/scan-schema.ts";
import type { Logger } from "../../platform/logger.ts";
import type { ScannerCommand, VulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import type { VulnerabilityFacts } from "../../status/resource-status.ts";
import { openScanCache } from "./scan-cache.ts";
import type { ScanCache } from "./scan-cache.ts";
import { parseDbVersion, parseScanReport } from "./scan-report.ts";
import type { Finding } from "./scan-report.ts";
import { judgeScan } from "./scan-verdict.ts";
import type { ScanVerdict } from "./scan-verdict.ts";

export type ScanGateDeps = {
  scanner: VulnerabilityScanner;
  stateDir: string;
  now: () => Date;
  logger: Logger;
  /** How long a database version read from the scanner is trusted (default 10 minutes). */
  dbCheckSeconds?: number;
};

export type ImageScan = { verdict: ScanVerdict; facts: VulnerabilityFacts };

export type ScanGate = {
  assess(image: { name: string; ref: string; imageId: string }, settings: ScanSettings): Promise<ImageScan>;
};

export function createScanGate(deps: ScanGateDeps): ScanGate {
  const cache: ScanCache = openScanCache(deps.stateDir);
  const checkMs = (deps.dbCheckSeconds ?? 600) * 1000;
  const db = new Map<ScannerCommand, { version: string; at: number }>();

  /** The scanner's database version; undefined when it cannot tell (no database yet, an old Grype): no cache hit then. */
  async function dbVersion(command: ScannerCommand, fresh: boolean): Promise<string | undefined> {
    const now = deps.now().getTime();
    const known = db.get(command);
    if (!fresh && known && now - known.at < checkMs) return known.version;
    const status = await deps.scanner.dbStatus(command);
    const version = status.ok ? parseDbVersion(command, status.stdout) : undefined;
    if (version) db.set(command, { version, at: now });
    else db.delete(command);
    return version;
  }

  async function findings(
    image: { name: string; ref: string; imageId: string },
    settings: ScanSettings,
  ): Promise<{ ok: true; findings: Finding[]; dbVersion: string; scannedAt: number } | { ok: false; message: string }> {
    const { command } = settings;
    const current = await dbVersion(command, false);
    const cached = await cache.get(command, image.imageId);
    const now = deps.now().getTime();
    if (cached && current !== undefined && cached.dbVersion === current && now - cached.scannedAt < settings.maxAgeSeconds * 1000)
      return { ok: true, ...cached };
    deps.logger.info({ image: image.name, ref: image.ref, scanner: command }, "image scan started");
    const run = await deps.scanner.scan(command, image.ref, settings.timeoutSeconds);
    if (!run.ok) return run;
    const report = parseScanReport(command, run.stdout);
    if (!report.ok) return report;
    // The scan may have downloaded a newer database: the result belongs to the version after it.
    const after = await dbVersion(command, true);
    const entry = {
      dbVersion: after ?? `unknown@${now}`,
      scannedAt: now,
      findings: report.findings,
    };
    await cache.put(command, image.imageId, entry, now - settings.maxAgeSeconds * 1000);
    deps.logger.info({ image: image.name, scanner: command, findings: report.findings.length, db: entry.dbVersion }, "image scanned");
    return { ok: true, ...entry };
  }

  return {
    async assess(image, settings) {
      const found = await findings(image, settings);
      const verdict = judgeScan(image.name, found, settings, deps.now());
      if (!found.ok) deps.logger.warn({ image: image.name, scanner: settings.command, error: found.message }, "image scan failed");
      const facts: VulnerabilityFacts = found.ok
        ? {
            imageId: image.imageId,
            scanner: settings.command,
            dbVersion: found.dbVersion,
            scannedAt: found.scannedAt,
            counts: verdict.counts,
            ...(verdict.blocking.length > 0 ? { blocking: verdict.blocking } : {}),
          }
        : { imageId: image.imageId, scanner: settings.command, failed: found.message };
      return { verdict, facts };
    },
  };
}
