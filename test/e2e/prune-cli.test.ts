// Real engine through `berth prune`: unrecorded images are kept one cycle, dry run and real run agree, a held host lock blocks it.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneCommand } from "../../controller/commands/prune-command.ts";
import type { PruneReport } from "../../reconcilers/prune/prune-reconciler.ts";
import { runCommand } from "../../platform/run-command.ts";
import { createHostLock } from "../../status/host-lock.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";

const prefix = `berth-t-${randomBytes(4).toString("hex")}`;
const repo = `${prefix}/svc`;
const dirs: string[] = [];

async function docker(args: string[], input?: string): Promise<string> {
  const { stdout } = await runCommand("docker", args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
  return stdout.trim();
}

async function ownTags(): Promise<string[]> {
  const out = await docker(["image", "ls", "--filter", `reference=${prefix}/*`, "--format", "{{.Repository}}:{{.Tag}}"]);
  return out
    .split("\n")
    .filter((line) => line && !line.endsWith(":<none>"))
    .sort();
}

async function berthPrune(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const flags: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) positionals.push(arg);
    else if (pruneCommand.options[arg.slice(2)]?.type === "boolean") flags[arg.slice(2)] = true;
    else {
      const key = arg.slice(2);
      const value = argv[(i += 1)] ?? "";
      flags[key] = pruneCommand.options[key]?.multiple ? [...((flags[key] as string[] | undefined) ?? []), value] : value;
    }
  }
  const code = await pruneCommand.run(
    { positionals, flags },
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { BERTH_LOG_LEVEL: "silent" } },
  );
  return { code, stdout, stderr };
}

describe("berth prune (CLI, real engine)", () => {
  let root: string;
  let stateDir: string;
  let common: string[];

  beforeAll(async () => {
    await ensureBusyboxImage();
    for (const n of [1, 2, 3]) {
      // The engine lists an image's creation time in whole seconds, and prune breaks ties of its
      // first-seen records by it: each image is made in a second of its own.
      if (n > 1) await new Promise((resolve) => setTimeout(resolve, 1100));
      await docker(
        ["build", "-q", "-t", `${repo}:${n}`, "--label", "io.berth.managed=true", "-"],
        `FROM berth-test/busybox:1\nRUN echo ${n} > /version && echo ${prefix} > /run-id\n`,
      );
    }
    root = await mkdtemp(join(tmpdir(), "berth-prune-cli-"));
    stateDir = await mkdtemp(join(tmpdir(), "berth-prune-cli-state-"));
    dirs.push(root, stateDir);
    await mkdir(join(root, "profiles"));
    await writeFile(join(root, "profiles", "cpu.json"), "{}\n");
    await writeFile(
      join(root, "berth.yaml"),
      `version: 1\nregistry: ${prefix}\nallowEmpty: true\nprune:\n  keep: 3\nmachines:\n  m1:\n    profile: cpu\n    prune:\n    ` +
        `  keep: 1\n      minAge: 0s\n`,
    );
    common = [
      root,
      "--machine",
      "m1",
      "--state-dir",
      stateDir,
      "--repository",
      `${prefix}/`,
      "--skip-dangling",
      "--skip-build-cache",
      "--json",
    ];
  });

  afterAll(async () => {
    const tags = await ownTags().catch(() => [] as string[]);
    if (tags.length > 0) await docker(["rmi", ...tags]).catch(() => undefined);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("keeps managed images it has no record of for one cycle, then prunes by the machine's override (keep 1)", async () => {
    // Arrange
    const before = await ownTags();

    // Act
    const first = await berthPrune(...common);
    const firstReport = JSON.parse(first.stdout) as PruneReport;
    const dry = JSON.parse((await berthPrune(...common, "--dry-run")).stdout) as PruneReport;
    const real = await berthPrune(...common);
    const realReport = JSON.parse(real.stdout) as PruneReport;

    // Assert: first run removed nothing and recorded all three
    expect(first.code).toBe(0);
    expect(before).toEqual([1, 2, 3].map((n) => `${repo}:${n}`));
    expect(firstReport.removals).toEqual([]);
    expect(firstReport.kept.map((k) => k.rules[0])).toEqual(["unrecorded", "unrecorded", "unrecorded"]);
    expect(firstReport.firstSeenRecorded).toBe(3);
    // Assert: the dry run names what the real run then removed; the newest (by record, ties by creation) stays
    expect(real.code).toBe(0);
    expect(dry.candidates.flatMap((c) => c.tags).sort()).toEqual([`${repo}:1`, `${repo}:2`]);
    expect(realReport.removals.map((r) => [r.tags, r.outcome])).toEqual(dry.candidates.map((c) => [c.tags, "removed"]));
    expect(await ownTags()).toEqual([`${repo}:3`]);
  });

  it("waits for a build or swap holding the host lock, and gives up with exit 3 when it stays busy", async () => {
    // Arrange
    const lock = createHostLock(stateDir);
    let release!: () => void;
    const held = lock.withLock({ purpose: "build images/app" }, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));

    // Act
    const busy = await berthPrune(...common, "--wait", "0.5");
    const waiting = berthPrune(...common, "--dry-run");
    await new Promise((r) => setTimeout(r, 300));
    release();
    await held;
    const after = await waiting;

    // Assert
    expect(busy.code).toBe(3);
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as PruneReport).kept.map((k) => k.tags)).toEqual([[`${repo}:3`]]);
  });

  it("prints every candidate and kept image with its rule in human form", async () => {
    // Arrange
    await docker(["tag", `${repo}:3`, `${repo}:extra`]);

    // Act
    const out = await berthPrune(...common.filter((a) => a !== "--json"), "--dry-run");

    // Assert
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`keep\\s+newest\\s+.*${repo}:3, ${repo}:extra`));
    expect(out.stdout).toContain("prune m1 (dry run): would remove 0 image(s)");
  });
});
