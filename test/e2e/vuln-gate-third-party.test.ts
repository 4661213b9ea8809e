// Real-engine test of the vulnerability gate on an image berth does not build (`image:`), with the
// stand-in `trivy`: the pinned local image is scanned before the service rolls out to it; a
// critical finding holds the rollout (no container starts), the service's `x-berth.scan` allow
// entry releases it without a rescan, and a failed scan holds a later rollout while the running
// container keeps serving.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { checkAllStatusInvariants } from "../../status/check-status-invariants.ts";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { BUSYBOX_IMAGE, ensureBusyboxImage } from "../support/busybox-image.ts";
import { docker } from "../support/stacks-harness.ts";
import { trivyScans, writeStandInTrivy, writeTrivyReport } from "../support/stand-in-trivy.ts";

const CRITICAL = "CVE-2026-20001";

describe("vulnerability gate on third-party images", () => {
  const prefix = `scan3p-${Math.random().toString(36).slice(2, 8)}`;
  const stack = prefix;
  const service = `${prefix}-cache`;
  /** A local image under its own reference (berth pulls nothing: it is on the host). */
  const ref = `berth-test/${prefix}-cache:1`;
  let dir: string;
  let root: string;
  let stateDir: string;
  let bin: string;
  const apply = createApplyCommand({ stackContext: { pollMs: 250, noHealthcheckRunSeconds: 1 } });

  async function writeFleet(scan: string): Promise<void> {
    await writeFile(
      join(root, "berth.yaml"),
      `version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 20s }\nscan: ${scan}\n`,
    );
  }

  async function writeCompose(extra: { xBerth?: string; env?: string } = {}): Promise<void> {
    await writeFile(
      join(root, "stacks", stack, "compose.yaml"),
      [
        "services:",
        `  ${service}:`,
        `    image: ${ref}`,
        '    command: ["sleep", "3600"]',
        "    stop_grace_period: 1s",
        ...(extra.env ? ["    environment:", `      VERSION: "${extra.env}"`] : []),
        ...(extra.xBerth ? ["    x-berth:", `      ${extra.xBerth}`] : []),
        "",
      ].join("\n"),
    );
  }

  async function run(): Promise<{ code: number; err: string }> {
    const err: string[] = [];
    const code = await apply.run(
      { positionals: [root], flags: { machine: "box", "state-dir": stateDir } },
      {
        stdout: () => undefined,
        stderr: (t) => void err.push(t),
        env: { BERTH_LOG_LEVEL: "silent", PATH: `${bin}:/usr/local/bin:/usr/bin:/bin` },
      },
    );
    return { code, err: err.join("") };
  }

  async function running(): Promise<string[]> {
    return (await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stack}`)).split("\n").filter(Boolean);
  }

  async function serviceConditions() {
    const store = await openStatusStore(stateDir);
    expect(checkAllStatusInvariants(store.all())).toEqual([]);
    return store.get({ kind: "service", stack, service })?.conditions ?? [];
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    await docker("tag", BUSYBOX_IMAGE, ref);
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    root = join(dir, "desired");
    stateDir = join(dir, "state");
    bin = join(dir, "bin");
    await mkdir(join(root, "profiles"), { recursive: true });
    await mkdir(join(root, "stacks", stack), { recursive: true });
    await mkdir(bin);
    await writeFile(join(root, "profiles", "box.json"), "{}");
    await writeStandInTrivy(bin);
  });

  afterAll(async () => {
    const ids = await running().catch(() => []);
    const all = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${stack}`).catch(() => "")).split("\n");
    for (const id of new Set([...ids, ...all].filter(Boolean))) await docker("rm", "-f", id).catch(() => "");
    await docker("network", "rm", `${stack}_default`).catch(() => "");
    const rollback = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${stack}-*`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    for (const tag of [ref, ...rollback]) await docker("rmi", tag).catch(() => "");
    await rm(dir, { recursive: true, force: true });
  });

  it("vuln: holds the first rollout of a pulled image with a critical finding; no container starts", async () => {
    await writeFleet("{ failOn: [critical] }");
    await writeCompose();
    await writeTrivyReport(bin, [{ id: CRITICAL, severity: "CRITICAL" }]);

    const { code, err } = await run();

    expect(code).toBe(1);
    expect(err).toContain(
      `${stack}/${service}: VulnerabilitiesFound: rollout waits: image ${ref} has vulnerabilities that are not allowed`,
    );
    expect(err).toContain(CRITICAL);
    expect(await running()).toEqual([]);
    expect(getCondition(await serviceConditions(), "Waiting")).toMatchObject({ status: "True", reason: "VulnerabilitiesFound" });
    expect(await trivyScans(bin)).toEqual([ref]);
  });

  it("vuln: rolls out once the service's own x-berth.scan allow entry covers the finding, without scanning again", async () => {
    await writeCompose({ xBerth: `scan: { allow: [{ id: ${CRITICAL}, expires: "2099-12-31" }] }` });

    const { code, err } = await run();

    expect({ code, err }).toEqual({ code: 0, err: "" });
    expect(await running()).toHaveLength(1);
    expect(getCondition(await serviceConditions(), "Waiting")).toBeUndefined();
    expect(await trivyScans(bin)).toEqual([ref]);
  });

  it("vuln: holds a later rollout with ScanFailed when the scanner is missing, the running container untouched", async () => {
    const before = await running();
    await writeFleet("{ command: grype, failOn: [critical] }");
    await writeCompose({ env: "2" });

    const { code, err } = await run();

    expect(code).toBe(1);
    expect(err).toContain(`${stack}/${service}: ScanFailed: rollout waits: scan of image ${ref} with grype failed: grype is not installed`);
    expect(await running()).toEqual(before);
    expect(getCondition(await serviceConditions(), "Waiting")).toMatchObject({ status: "True", reason: "ScanFailed" });
  });
});
