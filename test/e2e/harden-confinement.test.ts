// Every file a commit names stays inside the desired-state root (berth validate against real
// `docker compose config`): symlinks and paths to host files are refused before compose reads
// them, and no host file's content reaches a message. Injected profile values stay literal.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { writeEffectiveCompose } from "../../reconcilers/stacks/effective-compose.ts";
import { effectiveService } from "../../reconcilers/stacks/effective-service.ts";

const FIXTURE = new URL("../fixtures/desired-state/minimal/", import.meta.url).pathname;
/** A host file whose first line every Linux has: it must never appear in berth's output. */
const HOST_FILE = "/etc/passwd";
const HOST_CONTENT = "root:x:0:0";

async function validate(dir: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["validate", dir], { stdout: (t) => (out += t), stderr: (t) => (err += t), env: process.env });
  return { code, out, err };
}

describe("file references stay inside the desired-state root", { timeout: 60_000 }, () => {
  let base: string;
  let dir: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), "harden-confine-"));
    dir = join(base, "root");
    await cp(FIXTURE, dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  async function addToWeb(lines: string): Promise<void> {
    const file = join(dir, "stacks/web/compose.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("    build:", `${lines}\n    build:`));
  }

  async function expectRefused(pattern: RegExp): Promise<void> {
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(pattern);
    expect(`${result.out}${result.err}`).not.toContain(HOST_CONTENT);
  }

  it("accepts env_file, include, extends, configs and bind sources that stay inside", async () => {
    await writeFile(join(dir, "stacks/web/app.env"), "A=1\n");
    await writeFile(join(dir, "stacks/web/.env"), "B=2\n");
    await mkdir(join(dir, "stacks/web/data"));
    await writeFile(join(dir, "stacks/web/cfg.txt"), "x\n");
    await writeFile(join(dir, "stacks/web/extra.yaml"), "services:\n  side:\n    image: berth-test/busybox:1\n    env_file: [app.env]\n");
    await addToWeb("    env_file: [app.env]\n    volumes: [./data:/data]\n    configs: [cfg]");
    const file = join(dir, "stacks/web/compose.yaml");
    await writeFile(file, `include: [extra.yaml]\nconfigs:\n  cfg: { file: ./cfg.txt }\n${await readFile(file, "utf8")}`);
    const result = await validate(dir);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
  });

  it("refuses a profile that is a symlink to a host file, without printing its content", async () => {
    await rm(join(dir, "profiles/pc2.json"));
    await symlink(HOST_FILE, join(dir, "profiles/pc2.json"));
    await expectRefused(/^profiles\/pc2\.json: is a symlink/m);
  });

  it("refuses an env_file that is a symlink to a host file", async () => {
    await symlink(HOST_FILE, join(dir, "stacks/web/app.env"));
    await addToWeb("    env_file: [app.env]");
    await expectRefused(
      /^stacks\/web\/compose\.yaml:\d+: services\.web\.env_file\.0: "app\.env" is a symlink pointing outside the desired-state root/m,
    );
  });

  it("refuses an env_file given as an absolute host path or through ../", async () => {
    await addToWeb(`    env_file: ${HOST_FILE}`);
    await expectRefused(/services\.web\.env_file: "\/etc\/passwd" is outside the desired-state root/);
    await writeFile(join(base, "outside.env"), "SECRET=1\n");
    const file = join(dir, "stacks/web/compose.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace(`env_file: ${HOST_FILE}`, "env_file: ../../../outside.env"));
    await expectRefused(/services\.web\.env_file: "\.\.\/\.\.\/\.\.\/outside\.env" escapes the desired-state root/);
  });

  it("refuses an include that is a symlink to a compose file outside", async () => {
    await writeFile(join(base, "evil.yaml"), `services:\n  evil:\n    image: berth-test/busybox:1\n    env_file: ${HOST_FILE}\n`);
    await symlink(join(base, "evil.yaml"), join(dir, "stacks/web/extra.yaml"));
    const file = join(dir, "stacks/web/compose.yaml");
    await writeFile(file, `include: [extra.yaml]\n${await readFile(file, "utf8")}`);
    await expectRefused(/stacks\/web\/compose\.yaml:1: include\.0: "extra\.yaml" is a symlink pointing outside the desired-state root/);
  });

  it("follows an include inside the root and refuses what it references outside", async () => {
    await writeFile(
      join(dir, "stacks/web/extra.yaml"),
      `services:\n  side:\n    image: berth-test/busybox:1\n    env_file: ${HOST_FILE}\n`,
    );
    const file = join(dir, "stacks/web/compose.yaml");
    await writeFile(file, `include: [extra.yaml]\n${await readFile(file, "utf8")}`);
    await expectRefused(/^stacks\/web\/extra\.yaml:\d+: services\.side\.env_file: "\/etc\/passwd" is outside/m);
  });

  it("refuses extends.file and a configs file outside the root", async () => {
    await writeFile(join(base, "base.yaml"), "services:\n  b:\n    image: berth-test/busybox:1\n");
    await addToWeb("    extends: { file: ../../../base.yaml, service: b }");
    const file = join(dir, "stacks/web/compose.yaml");
    await writeFile(file, `configs:\n  cfg: { file: ${HOST_FILE} }\n${await readFile(file, "utf8")}`);
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('configs.cfg.file: "/etc/passwd" is outside the desired-state root');
    expect(result.err).toContain('services.web.extends.file: "../../../base.yaml" escapes the desired-state root');
  });

  it("refuses a stack .env that is a symlink to a host file", async () => {
    await symlink(HOST_FILE, join(dir, "stacks/web/.env"));
    await expectRefused(/^stacks\/web\/\.env: "\.env" is a symlink pointing outside the desired-state root/m);
  });

  it("refuses a relative bind source that leads outside through a symlink", async () => {
    await symlink("/etc", join(dir, "stacks/web/data"));
    await addToWeb("    volumes: [./data/ssl:/ssl]");
    await expectRefused(/services\.web\.volumes\.0: "\.\/data\/ssl" is a symlink pointing outside/);
  });

  it("refuses a symlinked stack folder and a symlinked berth.yaml", async () => {
    await mkdir(join(base, "other"));
    await symlink(join(base, "other"), join(dir, "stacks/linked"));
    await rm(join(dir, "berth.yaml"));
    await symlink(HOST_FILE, join(dir, "berth.yaml"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^berth\.yaml: is a symlink/m);
    expect(result.err).toMatch(/^stacks\/linked: is a symlink/m);
    expect(result.err).not.toContain(HOST_CONTENT);
  });

  it("refuses a file reference built from variables, which it could not check", async () => {
    await addToWeb("    env_file: ${HOME}/x.env");
    await expectRefused(/services\.web\.env_file: "\$\{HOME\}\/x\.env" must be a literal path/);
  });
});

describe("injected profile values", () => {
  it("stay literal text in the compose file berth runs: ${BERTH_REPO} is not the agent's variable", { timeout: 30_000 }, async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "harden-escape-"));
    try {
      const stack: StackSpec = {
        name: "harden-escape",
        dir: stateDir,
        composeFile: join(stateDir, "compose.yaml"),
        machines: "all",
        prune: false,
        services: [],
        model: { services: {} },
      };
      const service = {
        name: "web",
        stack: stack.name,
        config: { image: "berth-test/busybox:1", environment: { OWN: "$$HOME" } },
        image: "berth-test/busybox:1",
        rollout: DEFAULT_ROLLOUT,
        selfHeal: true,
        source: "auto" as const,
        dependsOn: [],
        hasFixedHostPort: false,
      };
      const effective = effectiveService(service, { machine: "pc2", profile: { TOKEN: "${BERTH_REPO}", PRICE: "5$" }, imageTags: {} });
      if (!effective.ok) throw new Error("expected an effective service");
      const project = await writeEffectiveCompose(
        stateDir,
        stack,
        { web: effective.config },
        { prune: false, machine: "pc2", revision: "r", directory: stateDir },
      );

      const model = await createComposeCli().config(project, {
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: "/root", BERTH_REPO: "https://x:token@example.com/repo.git" },
      });

      const services = model["services"] as Record<string, { environment: Record<string, string> }>;
      // compose prints literal `$` escaped as `$$`: what the container gets is the literal text.
      expect(services["web"]?.environment).toMatchObject({ TOKEN: "$${BERTH_REPO}", PRICE: "5$$", OWN: "$$HOME" });
      expect(JSON.stringify(model)).not.toContain("token@example.com");
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
