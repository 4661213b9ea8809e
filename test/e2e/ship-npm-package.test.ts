// The npm package as users install it: `npm pack` of a clean copy of this checkout, then
// `npm install -g --prefix DIR` of the tarball (dependencies from the npm registry), and the
// installed `berth` runs compiled JavaScript only: no TypeScript sources, tsx or esbuild.
import { appendFile, cp, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helpText } from "../../controller/cli.ts";
import { runCommand } from "../../platform/run-command.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SKIP = new Set(["node_modules", "dist", ".git", ".berth-state", "bench/.compiled", "coverage"]);

describe("the berth-agent npm package", () => {
  let work = "";
  let prefix = "";
  let tarball = "";
  let packed: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "ship-npm-"));
    const source = join(work, "source");
    prefix = join(work, "prefix");
    // A copy, so packing (which builds dist/) never touches the checkout the other tests run from.
    await cp(REPO, source, { recursive: true, filter: (path) => !SKIP.has(relative(REPO, path)) });
    await symlink(join(REPO, "node_modules"), join(source, "node_modules"));
    const pack = await runCommand("npm", ["pack", "--json", "--pack-destination", work], { cwd: source, timeoutMs: 180_000 });
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack printed no package: ${pack.stdout}`);
    tarball = join(work, info.filename);
    packed = info.files.map((f) => f.path);
    await runCommand("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error", tarball], {
      cwd: work,
      timeoutMs: 300_000,
    });
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("packs compiled JavaScript, the launcher, the deploy files and the example, and no TypeScript", () => {
    expect(tarball).toMatch(/berth-agent-\d+\.\d+\.\d+\.tgz$/);
    expect(packed).toContain("bin/berth.cjs");
    expect(packed).toContain("dist/berth.js");
    expect(packed).toContain("dist/help.txt");
    expect(packed).toContain("deploy/berth.service");
    expect(packed).toContain("examples/fleet/berth.yaml");
    expect(packed.filter((p) => p.endsWith(".ts"))).toEqual([]);
  });

  it("installs with npm install -g and answers --version with the package's version", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { version: string };

    const result = await runCommand(join(prefix, "bin", "berth"), ["--version"], { timeoutMs: 30_000 });

    expect(result.stdout.trim()).toBe(version);
  });

  it("answers --help from the help text the build wrote, the text the sources and the bundle print", async () => {
    const result = await runCommand(join(prefix, "bin", "berth"), ["--help"], { timeoutMs: 30_000 });
    const fromBundle = await runCommand(join(prefix, "bin", "berth"), ["help", "--log-format", "json"], { timeoutMs: 30_000 });

    expect(result.stdout).toBe(`${helpText()}\n`);
    expect(fromBundle.stdout).toBe(result.stdout);
  });

  it("validates the example fleet with no TypeScript tooling installed", async () => {
    const installed = await readdir(join(prefix, "lib", "node_modules", "berth-agent", "node_modules"));
    const stateDir = join(work, "state");

    const result = await runCommand(join(prefix, "bin", "berth"), ["validate", join(REPO, "examples", "fleet"), "--state-dir", stateDir], {
      cwd: work,
      timeoutMs: 60_000,
    });

    expect(installed).not.toContain("tsx");
    expect(installed).not.toContain("typescript");
    expect(installed).not.toContain("esbuild");
    expect(result.stdout).toMatch(/examples\/fleet: valid \(2 machines, \d+ images, \d+ stacks, \d+ services\)/);
    expect(await readdir(join(stateDir, "cache", "compose"))).not.toEqual([]);
  });

  it("answers a second validate of an unchanged tree from the desired-state cache, and loads a changed one again", async () => {
    const root = join(work, "perf-fleet");
    await cp(join(REPO, "examples", "fleet"), root, { recursive: true });
    const stateDir = join(work, "perf-state");
    const validate = () =>
      runCommand(join(prefix, "bin", "berth"), ["validate", root, "--state-dir", stateDir], { cwd: work, timeoutMs: 60_000 });
    const cached = () => readdir(join(stateDir, "cache", "desired-state"));

    const first = await validate();
    const second = await validate();
    const [stack] = await readdir(join(root, "stacks"));
    await appendFile(join(root, "stacks", stack ?? "", "compose.yaml"), "# changed\n");
    const third = await validate();

    expect(second.stdout).toBe(first.stdout);
    expect(third.stdout).toBe(first.stdout);
    expect(await cached()).toHaveLength(2);
  });
});
