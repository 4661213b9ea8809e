// Real-engine test of the vulnerability gate with a stand-in `trivy` (no scanner or vulnerability
// database can be installed here): a small script that reads the image from the engine and prints
// a Trivy JSON report the test chooses. A critical finding holds the rollout while the old version
// keeps serving; an allow entry releases it without a rescan; a missing scanner is ScanFailed;
// `enforce: false` rolls out with a Vulnerable warning; `berth build --scan` fails the CI job.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { buildCommand } from "../../controller/commands/build-command.ts";
import { checkAllStatusInvariants } from "../../status/check-status-invariants.ts";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { removeBuiltStack } from "../support/remove-built-stack.ts";
import { docker } from "../support/stacks-harness.ts";
import { trivyScans, writeStandInTrivy, writeTrivyReport } from "../support/stand-in-trivy.ts";

const CRITICAL = "CVE-2026-10001";

describe("vulnerability gate", () => {
  const prefix = `vuln-${Math.random().toString(36).slice(2, 8)}`;
  const service = `${prefix}-web`;
  const stack = prefix;
  let dir: string;
  let root: string;
  let stateDir: string;
  let bin: string;
  const apply = createApplyCommand({ stackContext: { pollMs: 250 } });

  async function writeFleet(scan: string): Promise<void> {
    await writeFile(
      join(root, "berth.yaml"),
      `version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 20s, monitor: 1s }\nscan: ${scan}\n`,
    );
  }

  /** The app image is busybox plus files (no RUN: builds need no network); `version` changes its content. */
  async function writeApp(version: string): Promise<void> {
    const app = join(root, "stacks", stack, "app");
    await mkdir(join(app, "www"), { recursive: true });
    await writeFile(join(app, "www", "index.html"), `${version}\n`);
    await writeFile(join(app, "www", "health"), "ok\n");
    await writeFile(
      join(app, "Dockerfile"),
      "FROM berth-test/busybox:1\nCOPY www /www\n" +
        "HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1\n" +
        'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n',
    );
    await writeFile(join(root, "stacks", stack, "compose.yaml"), `services:\n  ${service}:\n    build: ./app\n    stop_grace_period: 1s\n`);
  }

  const report = (findings: { id: string; severity: string }[]): Promise<void> => writeTrivyReport(bin, findings);

  const env = (): Record<string, string> => ({ BERTH_LOG_LEVEL: "silent", PATH: `${bin}:/usr/local/bin:/usr/bin:/bin` });

  async function run(): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await apply.run(
      { positionals: [root], flags: { machine: "box", "state-dir": stateDir } },
      { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: env() },
    );
    return { code, out: out.join(""), err: err.join("") };
  }

  async function running(): Promise<{ id: string; image: string }[]> {
    const ids = (await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stack}`)).split("\n").filter(Boolean);
    return Promise.all(ids.map(async (id) => ({ id, image: await docker("inspect", "-f", "{{.Image}}", id) })));
  }

  /** Image references the stand-in scanned, in order. */
  const scans = (): Promise<string[]> => trivyScans(bin);

  async function records() {
    const store = await openStatusStore(stateDir);
    const image = store.get({ kind: "image", machine: "box", name: service });
    const svc = store.get({ kind: "service", stack, service });
    expect(checkAllStatusInvariants(store.all())).toEqual([]);
    return { image, service: svc, imageConditions: image?.conditions ?? [], serviceConditions: svc?.conditions ?? [] };
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    root = join(dir, "desired");
    stateDir = join(dir, "state");
    bin = join(dir, "bin");
    await mkdir(join(root, "profiles"), { recursive: true });
    await mkdir(bin);
    await writeFile(join(root, "profiles", "box.json"), "{}");
    await writeStandInTrivy(bin);
  });

  afterAll(async () => {
    await removeBuiltStack(stack, service);
    await rm(dir, { recursive: true, force: true });
  });

  it("vuln: rolls out an image whose findings are below failOn, recording the counts", async () => {
    await writeFleet("{ failOn: [critical] }");
    await writeApp("v1");
    await report([{ id: "CVE-2026-10009", severity: "LOW" }]);

    const { code } = await run();

    expect(code).toBe(0);
    const { image, imageConditions } = await records();
    expect(await running()).toEqual([{ id: expect.any(String), image: image?.build?.imageId }]);
    expect(getCondition(imageConditions, "Vulnerable")).toMatchObject({ status: "True", reason: "VulnerabilitiesFound" });
    expect(image?.vulnerabilities).toMatchObject({ imageId: image?.build?.imageId, scanner: "trivy", counts: { critical: 0, low: 1 } });
    expect(await scans()).toEqual([image?.build?.tag]);
  });

  it("vuln: holds the rollout of an image with a critical finding while the old version keeps serving", async () => {
    const [before] = await running();
    await writeApp("v2");
    await report([{ id: CRITICAL, severity: "CRITICAL" }]);

    const { code, err } = await run();

    expect(code).toBe(1);
    expect(err).toContain(
      `${stack}/${service}: VulnerabilitiesFound: rollout waits: image ${service} has vulnerabilities that are not allowed`,
    );
    expect(err).toContain(CRITICAL);
    expect(await running()).toEqual([before]);
    const { image, imageConditions, serviceConditions } = await records();
    expect(image?.build?.imageId).not.toBe(before?.image);
    expect(getCondition(serviceConditions, "Waiting")).toMatchObject({ status: "True", reason: "VulnerabilitiesFound" });
    expect(getCondition(imageConditions, "Vulnerable")).toMatchObject({ status: "True", reason: "VulnerabilitiesFound" });
    expect(image?.vulnerabilities?.blocking).toEqual([CRITICAL]);
  });

  it("vuln: rolls the held image out once an allow entry covers the finding, without scanning it again", async () => {
    const scannedBefore = (await scans()).length;
    await writeFleet(`{ failOn: [critical], allow: [{ id: ${CRITICAL}, expires: "2099-12-31", reason: "not reachable" }] }`);

    const { code } = await run();

    expect(code).toBe(0);
    const { image, serviceConditions, imageConditions } = await records();
    expect((await running()).map((c) => c.image)).toEqual([image?.build?.imageId]);
    expect(getCondition(serviceConditions, "Waiting")).toBeUndefined();
    expect(getCondition(imageConditions, "Vulnerable")?.message).toContain(`1 allowed (${CRITICAL})`);
    expect((await scans()).length).toBe(scannedBefore);
  });

  it("vuln: holds the rollout with ScanFailed when the scanner is not installed", async () => {
    const [before] = await running();
    await writeFleet("{ command: grype, failOn: [critical] }");
    await writeApp("v3");

    const { code, err } = await run();

    expect(code).toBe(1);
    expect(err).toContain(
      `${stack}/${service}: ScanFailed: rollout waits: scan of image ${service} with grype failed: grype is not installed`,
    );
    expect(await running()).toEqual([before]);
    const { image, imageConditions, serviceConditions } = await records();
    expect(getCondition(serviceConditions, "Waiting")).toMatchObject({ reason: "ScanFailed" });
    expect(getCondition(imageConditions, "Vulnerable")).toMatchObject({ status: "Unknown", reason: "ScanFailed" });
    expect(image?.vulnerabilities?.failed).toContain("grype is not installed");
  });

  it("vuln: rolls out with a Vulnerable warning when enforce is false", async () => {
    await writeFleet("{ failOn: [critical], enforce: false }");
    await writeApp("v4");
    await report([{ id: CRITICAL, severity: "CRITICAL" }]);

    const { code, out } = await run();

    expect(code).toBe(0);
    const { image, imageConditions } = await records();
    expect((await running()).map((c) => c.image)).toEqual([image?.build?.imageId]);
    expect(getCondition(imageConditions, "Vulnerable")).toMatchObject({ status: "True", reason: "VulnerabilitiesFound" });
    expect(getCondition(imageConditions, "Vulnerable")?.message).toContain("enforce is off, rollouts go ahead");
    expect(out).toContain("enforce is off");
  });

  it("vuln: berth build --scan exits 1 on a failOn finding and 0 once the image is clean", async () => {
    await writeFleet("{ failOn: [critical] }");
    const build = async (): Promise<{ code: number; err: string }> => {
      const err: string[] = [];
      const code = await buildCommand.run(
        { positionals: [root], flags: { machine: "box", scan: true, quiet: true } },
        { stdout: () => undefined, stderr: (t) => void err.push(t), env: env() },
      );
      return { code, err: err.join("") };
    };

    const failing = await build();
    await report([]);
    const clean = await build();

    expect(failing.code).toBe(1);
    expect(failing.err).toContain(
      `${service}: VulnerabilitiesFound: image ${service} has vulnerabilities that are not allowed: 1 critical`,
    );
    expect(clean).toEqual({ code: 0, err: "" });
  });
});
