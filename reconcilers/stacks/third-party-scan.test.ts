// Scans of images berth does not build, over a scripted scanner (no engine): which services' images
// are scanned with which settings, and the holds that make their rollouts wait.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScanFileSpec } from "../../desired-state/scan-schema.ts";
import { desiredStateFixture } from "../../metrics/fixtures/desired-state.ts";
import { silentLogger } from "../../platform/logger.ts";
import type { VulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { createScanGate } from "../images/scan-gate.ts";
import type { ImageDecision } from "./plan-third-party.ts";
import { scanThirdPartyImages } from "./third-party-scan.ts";

const NOW = Date.parse("2026-12-02T10:00:00Z");
const CRITICAL = JSON.stringify({
  SchemaVersion: 2,
  Results: [{ Target: "t", Vulnerabilities: [{ VulnerabilityID: "CVE-2026-0001", Severity: "CRITICAL", FixedVersion: "1.1" }] }],
});

function scanner(world: { missing?: boolean }): VulnerabilityScanner & { scanned: string[] } {
  const scanned: string[] = [];
  return {
    scanned,
    async scan(_command, ref) {
      if (world.missing) return { ok: false, message: "trivy is not installed on this host" };
      scanned.push(ref);
      return { ok: true, stdout: CRITICAL };
    },
    async dbStatus() {
      return world.missing
        ? { ok: false, message: "trivy is not installed on this host" }
        : { ok: true, stdout: JSON.stringify({ VulnerabilityDB: { Version: 2, UpdatedAt: "2026-12-01T00:00:00Z" } }) };
    },
  };
}

const use = (ref: string, id: string): ImageDecision => ({
  kind: "use",
  image: { ref, imageId: id, digest: `${ref.split(":")[0]}@sha256:${id.slice(7)}` },
  runAs: `${ref.split(":")[0]}@sha256:${id.slice(7)}`,
});

describe("scanThirdPartyImages", () => {
  let dir: string;
  let store: StatusStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "scan3p-unit-"));
    store = await openStatusStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function context(scan: ScanFileSpec | undefined, world: { missing?: boolean }) {
    const state = desiredStateFixture({
      revision: "r1",
      machine: "pc2",
      services: [
        { stack: "home", service: "cache" },
        { stack: "home", service: "proxy" },
        { stack: "home", service: "queue" },
      ],
      images: [],
    });
    const stack = state.stacks[0];
    if (!stack) throw new Error("fixture has no stack");
    // proxy relaxes the fleet's gate for itself; queue waits for its pull (nothing to scan yet).
    stack.services = stack.services.map((s) => (s.name === "proxy" ? { ...s, scan: { enforce: false } } : s));
    const scanning = scanner(world);
    const clock = { now: () => NOW, sleep: async () => {} };
    const logger = silentLogger();
    const scanGate = createScanGate({ scanner: scanning, stateDir: dir, now: () => new Date(NOW), logger });
    const decisions = new Map<string, ImageDecision>([
      ["cache", use("redis:7", "sha256:aaa")],
      ["proxy", use("caddy:2", "sha256:bbb")],
      ["queue", { kind: "pull", pull: "nats:2", reason: "NotPresent", message: "nats:2 is not on this host; pulling it" }],
    ]);
    return { ctx: { state: scan ? { ...state, scan } : state, store, clock, logger, scanGate }, stack, decisions, scanning };
  }

  it("vuln: holds the rollout to a pulled image with a failOn finding, by the image the service runs as", async () => {
    const { ctx, stack, decisions, scanning } = context({ failOn: ["critical"] }, {});

    const scans = await scanThirdPartyImages(ctx, stack, decisions);

    expect(scanning.scanned).toEqual(["redis@sha256:aaa", "caddy@sha256:bbb"]);
    expect([...scans.holds]).toEqual([
      [
        "redis@sha256:aaa",
        {
          reason: "VulnerabilitiesFound",
          message: "image redis:7 has vulnerabilities that are not allowed: 1 critical (failOn: critical: CVE-2026-0001)",
        },
      ],
    ]);
    expect(scans.scanFailed).toEqual([]);
  });

  it("vuln: holds with ScanFailed when the scanner is missing, and scans nothing without a scan setting", async () => {
    const missing = context({ failOn: ["critical"] }, { missing: true });
    const off = context(undefined, {});

    const failed = await scanThirdPartyImages(missing.ctx, missing.stack, missing.decisions);
    const none = await scanThirdPartyImages(off.ctx, off.stack, off.decisions);

    expect(failed.holds.get("redis@sha256:aaa")).toMatchObject({ reason: "ScanFailed" });
    expect(failed.holds.has("caddy@sha256:bbb")).toBe(false);
    expect(failed.scanFailed).toEqual(["cache"]);
    expect(off.scanning.scanned).toEqual(["caddy@sha256:bbb"]);
    expect(none.holds.size).toBe(0);
  });
});
