// `berth validate` against real `docker compose config`: the example and every bad-input case.
import { cp, mkdtemp, readFile, rm, symlink, writeFile, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";

const FIXTURE = new URL("../fixtures/desired-state/minimal/", import.meta.url).pathname;

async function validate(dir: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["validate", dir], { stdout: (t) => (out += t), stderr: (t) => (err += t), env: process.env });
  return { code, out, err };
}

describe("berth validate", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-validate-"));
    await cp(FIXTURE, dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function edit(path: string, change: (text: string) => string): Promise<void> {
    const file = join(dir, path);
    await writeFile(file, change(await readFile(file, "utf8")));
  }

  it("accepts the minimal fixture", async () => {
    const result = await validate(dir);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toContain("valid (2 machines, 2 images, 1 stacks, 1 services)");
  });

  it("accepts the example fleet", async () => {
    const result = await validate(new URL("../../examples/fleet/", import.meta.url).pathname);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
  });

  it("reports malformed YAML with its line", async () => {
    await edit("berth.yaml", (t) => `${t}\nrollout: [unclosed\n`);
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^berth\.yaml:\d+: invalid YAML/m);
  });

  it("reports malformed JSON in a profile", async () => {
    await edit("profiles/pc2.json", (t) => t.replace('"0",', '"0"'));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^profiles\/pc2\.json: invalid JSON/m);
  });

  it("reports an unknown key in berth.yaml as a typo with its line", async () => {
    await edit("berth.yaml", (t) => t.replace("resync: 5m", "resynk: 5m"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain("berth.yaml:7: resynk: unknown key (check for a typo)");
  });

  it("reports an unknown key in a service's x-berth", async () => {
    await edit("stacks/web/compose.yaml", (t) => t.replace("strategy: start-first", "strategy: start-first, healthTimout: 5s"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain("stacks/web/compose.yaml:12: services.web.x-berth.rollout.healthTimout: unknown key");
  });

  it("reports an unknown compose key through docker compose", async () => {
    await edit("stacks/web/compose.yaml", (t) => t.replace("    build:", "    imagee: foo\n    build:"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/stacks\/web\/compose\.yaml: docker compose rejects it: .*imagee/);
  });

  it("reports a stack naming an unknown machine", async () => {
    await edit("stacks/web/compose.yaml", (t) => t.replace("machines: [pc2]", "machines: [pc3]"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('stacks/web/compose.yaml:2: x-berth.machines.0: unknown machine "pc3" (berth.yaml machines: mainpc, pc2)');
  });

  it("reports an image cycle", async () => {
    await cp(join(dir, "images/base"), join(dir, "images/other"), { recursive: true });
    await writeFile(join(dir, "images/base/Dockerfile"), "FROM other\n");
    await writeFile(join(dir, "images/other/Dockerfile"), "FROM base\n");
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/FROM: image cycle: (base → other → base|other → base → other)/);
  });

  it("refuses a build context that escapes the root with ../", async () => {
    await edit("images/base/image.yaml", (t) => t.replace("context: .", "context: ../../.."));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('images/base/image.yaml:1: context: "../../.." escapes the desired-state root');
  });

  it("refuses an absolute Dockerfile path", async () => {
    await edit("images/base/image.yaml", (t) => t.replace("dockerfile: Dockerfile", "dockerfile: /etc/passwd"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('images/base/image.yaml:2: dockerfile: "/etc/passwd" is an absolute path');
  });

  it("refuses a context that is a symlink pointing outside", async () => {
    await symlink("/etc", join(dir, "stacks/web/outside"));
    await edit("stacks/web/compose.yaml", (t) => t.replace("context: ./app", "context: ./outside"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('services.web.build.context: "./outside" is a symlink pointing outside the desired-state root');
  });

  it("reports a profile with non-string values", async () => {
    await edit("profiles/mainpc.json", (t) => t.replace('"16"', "16"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('profiles/mainpc.json:4: OMP_NUM_THREADS: profile values must be strings (quote numbers: "16")');
  });

  it("reports a missing Dockerfile", async () => {
    await unlink(join(dir, "images/base/Dockerfile"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('images/base/image.yaml:2: dockerfile: "Dockerfile" does not exist (missing Dockerfile)');
  });

  it("refuses a YAML alias bomb without expanding it", async () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, ` +
          `*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, ` +
          `*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, ` +
          `*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      ),
    ].join("\n");
    await writeFile(join(dir, "images/base/image.yaml"), `${bomb}\n`);
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/images\/base\/image\.yaml: invalid YAML: .*alias/i);
  });

  it("refuses a 50 MB file without reading it", async () => {
    await writeFile(join(dir, "stacks/web/compose.yaml"), Buffer.alloc(50 * 1024 * 1024, 0x20));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain("stacks/web/compose.yaml: file is 50.0 MiB, larger than the 1 MiB limit");
  });

  it("refuses start-first for a service with a fixed host port", async () => {
    await edit("stacks/web/compose.yaml", (t) => t.replace("    build:", '    ports: ["127.0.0.1:18080:8080"]\n    build:'));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain("services.web.x-berth.rollout.strategy: start-first needs two containers side by side");
  });

  it("refuses a prune schedule that is not cron, naming the field at fault", async () => {
    await edit("berth.yaml", (t) => t.replace('schedule: "0 4 * * *"', 'schedule: "0 25 * * *"'));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'berth.yaml:6: prune.schedule: "0 25 * * *" is not a cron expression (e.g. "0 4 * * *"): hour: 25 is outside 0-23',
    );
  });

  it("refuses more than one replica of a service, naming the file and field", async () => {
    await edit("stacks/web/compose.yaml", (t) => t.replace("    build:", "    deploy: { replicas: 3 }\n    build:"));
    const result = await validate(dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /stacks\/web\/compose\.yaml:\d+: services\.web\.deploy\.replicas: berth runs exactly one container per service .*got 3/,
    );
  });
});
