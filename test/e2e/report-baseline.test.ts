// Real engine: images built by `berth apply` are measured against their declared baseline (a
// bigger local image in image.yaml, a size in x-berth); `berth report` and `berth metrics` agree.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { metricsCommand } from "../../controller/commands/metrics-command.ts";
import { reportCommand } from "../../controller/commands/report-command.ts";
import type { CliIo } from "../../controller/cli-io.ts";
import type { MigrationTable } from "../../metrics/migration-table.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { BUSYBOX_IMAGE, ensureBusyboxImage } from "../support/busybox-image.ts";
import { ownImageIds } from "../support/images-world.ts";

const execFileP = promisify(execFile);

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("docker", args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { ...process.env, BERTH_LOG_LEVEL: "silent" } };
}

const MACHINE = "m1";

describe("berth report: size against the pre-migration baseline (real engine)", () => {
  const prefix = `report-${Math.random().toString(36).slice(2, 8)}`;
  const legacy = `berth-test/${prefix}-legacy:1`;
  const slim = `${prefix}-slim`;
  const svc = `${prefix}-svc`;
  const stack = `${prefix}-app`;
  let root: string;
  let stateDir: string;
  let legacyDir: string;
  const apply = createApplyCommand({ stackContext: { pollMs: 250 } });

  beforeAll(async () => {
    await ensureBusyboxImage();
    root = await mkdtemp(join(tmpdir(), `${prefix}-root-`));
    stateDir = await mkdtemp(join(tmpdir(), `${prefix}-state-`));
    legacyDir = await mkdtemp(join(tmpdir(), `${prefix}-legacy-`));
    // The "pre-migration" image: busybox plus 8 MiB of payload.
    await writeFile(join(legacyDir, "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nRUN dd if=/dev/urandom of=/payload bs=1048576 count=8\n`);
    await docker("build", "-q", "-t", legacy, legacyDir);

    await writeFile(
      join(root, "berth.yaml"),
      `version: 1\nmachines:\n  ${MACHINE}: { profile: p1 }\nrollout: { healthTimeout: 20s, monitor: 1s }\n`,
    );
    await mkdir(join(root, "profiles"));
    await writeFile(join(root, "profiles", "p1.json"), "{}");
    await mkdir(join(root, "images", slim), { recursive: true });
    await writeFile(join(root, "images", slim, "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nRUN echo slim > /slim.txt\n`);
    await writeFile(join(root, "images", slim, "image.yaml"), `baseline: { image: "${legacy}" }\nbudgets: { minReduction: 0.5 }\n`);
    await mkdir(join(root, "stacks", stack, "svc"), { recursive: true });
    await writeFile(join(root, "stacks", stack, "svc", "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nRUN echo svc > /svc.txt\n`);
    await writeFile(
      join(root, "stacks", stack, "compose.yaml"),
      `services:\n  ${svc}:\n    build: ./svc\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    x-berth:\n      ` +
        `baseline: { sizeMiB: 1000 }\n      budgets: { minReduction: 0.9999 }\n`,
    );
  });

  afterAll(async () => {
    const containers = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${stack}`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    if (containers.length > 0) await docker("rm", "-f", ...containers).catch(() => "");
    await docker("network", "rm", `${stack}_default`).catch(() => "");
    const rollbackTags = (await docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${stack}-*`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    if (rollbackTags.length > 0) await docker("rmi", ...rollbackTags).catch(() => "");
    const ids = await ownImageIds(prefix);
    if (ids.length > 0) await docker("rmi", "-f", ...ids).catch(() => "");
    await docker("rmi", legacy).catch(() => "");
    for (const dir of [root, stateDir, legacyDir]) await rm(dir, { recursive: true, force: true });
  });

  async function sizeOf(ref: string): Promise<number> {
    return Number(await docker("image", "inspect", "-f", "{{.Size}}", ref));
  }

  async function builtTag(image: string): Promise<string> {
    const record = (await openStatusStore(stateDir)).get({ kind: "image", machine: MACHINE, name: image });
    if (!record?.build) throw new Error(`no build facts recorded for ${image}`);
    return record.build.tag;
  }

  it("applies both images and flags the x-berth image that misses its minReduction budget", async () => {
    const io = captureIo();

    const code = await apply.run({ positionals: [root], flags: { machine: MACHINE, "state-dir": stateDir } }, io);

    expect(io.err.join("")).toBe("");
    expect(code).toBe(0);
    const store = await openStatusStore(stateDir);
    const exceeded = store.get({ kind: "image", machine: MACHINE, name: svc })?.conditions.find((c) => c.type === "BudgetExceeded");
    expect(exceeded).toMatchObject({ status: "True", reason: "BudgetWarning" });
    expect(exceeded?.message).toMatch(
      /^size reduction 99\.\d % < budget 100 % \(\d+\.\d MiB against the declared baseline, 1000\.0 MiB\)$/,
    );
    expect(store.get({ kind: "image", machine: MACHINE, name: slim })?.conditions.find((c) => c.type === "BudgetExceeded")).toBeUndefined();
  });

  it("reports each image's reduction against its baseline as JSON, with the budgets met or missed", async () => {
    const io = captureIo();
    const [slimSize, legacySize, svcSize] = await Promise.all([sizeOf(await builtTag(slim)), sizeOf(legacy), sizeOf(await builtTag(svc))]);

    const code = await reportCommand.run({ positionals: [root], flags: { machine: MACHINE, "state-dir": stateDir, format: "json" } }, io);

    expect(io.err.join("")).toBe("");
    expect(code).toBe(0);
    const table = JSON.parse(io.out.join("")) as MigrationTable;
    const bySlim = table.images.find((r) => r.image === slim);
    const bySvc = table.images.find((r) => r.image === svc);
    expect(bySlim).toMatchObject({
      sizeBytes: slimSize,
      baseline: { kind: "image", ref: legacy, sizeBytes: legacySize },
      budgets: [{ budget: "minReduction", limit: 0.5, met: true }],
      budgetsMet: true,
    });
    expect(bySlim?.reductionRatio).toBeCloseTo(1 - slimSize / legacySize, 12);
    expect(bySlim?.reductionRatio).toBeGreaterThan(0.5);
    expect(bySlim?.buildDurationSeconds).toBeGreaterThan(0);
    expect(bySvc).toMatchObject({
      sizeBytes: svcSize,
      baseline: { kind: "sizeMiB", sizeBytes: 1000 * 1024 * 1024 },
      budgets: [{ budget: "minReduction", limit: 0.9999, met: false }],
      budgetsMet: false,
    });
    expect(bySvc?.reductionRatio).toBeCloseTo(1 - svcSize / (1000 * 1024 * 1024), 12);
  });

  it("prints the same numbers as a Markdown table, and berth metrics exports the same reduction", async () => {
    const json = captureIo();
    await reportCommand.run({ positionals: [root], flags: { machine: MACHINE, "state-dir": stateDir, format: "json" } }, json);
    const table = JSON.parse(json.out.join("")) as MigrationTable;
    const md = captureIo();
    const metrics = captureIo();

    const mdCode = await reportCommand.run({ positionals: [root], flags: { machine: MACHINE, "state-dir": stateDir } }, md);
    const metricsCode = await metricsCommand.run(
      { positionals: [root], flags: { machine: MACHINE, "state-dir": stateDir, "no-gpu": true } },
      metrics,
    );

    expect(mdCode).toBe(0);
    expect(metricsCode).toBe(0);
    const text = md.out.join("");
    const exposition = metrics.out.join("");
    for (const row of table.images) {
      const line = text.split("\n").find((l) => l.startsWith(`| ${row.image} |`));
      expect(line).toContain(`| ${((row.reductionRatio ?? Number.NaN) * 100).toFixed(1)} % |`);
      const series = exposition
        .split("\n")
        .find((l) => l.startsWith("berth_image_size_reduction_ratio{") && l.includes(`image="${row.image}"`));
      expect(Number(series?.split(" ").pop())).toBeCloseTo(row.reductionRatio ?? Number.NaN, 12);
    }
    expect(text).toMatch(new RegExp(`\\| ${slim} \\| [\\d.]+ MiB \\| [\\d.]+ MiB \\(${legacy.replace(/[/.]/g, "\\$&")}\\) \\|`));
    expect(text).toContain("| missed: minReduction 0.9999 |");
    expect(exposition).toMatch(new RegExp(`berth_budget_exceeded\\{image="${svc}",budget="min_reduction"\\} 1`));
    expect(exposition).toMatch(new RegExp(`berth_image_size_reduction_budget_ratio\\{image="${slim}",machine="${MACHINE}"\\} 0.5`));
  });
});
