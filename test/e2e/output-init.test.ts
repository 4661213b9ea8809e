// Real-engine test of `berth init DIR`: the scaffold validates and applies as it is, and its one
// service ends Ready and healthy (built FROM the offline busybox image instead of Docker Hub's).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { initCommand } from "../../controller/commands/init-command.ts";
import { validateCommand } from "../../controller/commands/validate-command.ts";
import type { CliIo } from "../../controller/cli-io.ts";
import { BUSYBOX_IMAGE, ensureBusyboxImage } from "../support/busybox-image.ts";
import { removeBuiltStack } from "../support/remove-built-stack.ts";
import { docker } from "../support/stacks-harness.ts";

function capture(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: { BERTH_LOG_LEVEL: "silent" },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

describe("berth init", () => {
  const stack = `output-init-${Math.random().toString(36).slice(2, 8)}`;
  const machine = "output-init-host";
  let dir: string;
  let root: string;

  beforeAll(async () => {
    await ensureBusyboxImage();
    dir = await mkdtemp(join(tmpdir(), `${stack}-`));
    root = join(dir, "fleet");
  });

  afterAll(async () => {
    await removeBuiltStack(stack, stack);
    await rm(dir, { recursive: true, force: true });
  });

  it("scaffolds a desired state that validates and applies as it is, to a Ready host", async () => {
    const init = capture();
    expect(await initCommand.run({ positionals: [root], flags: { machine, stack, base: BUSYBOX_IMAGE } }, init)).toBe(0);
    expect(init.out()).toContain(`next: berth validate ${root} && berth apply ${root} --machine ${machine}`);
    expect(JSON.parse(await readFile(join(root, "profiles", `${machine}.json`), "utf8"))).toMatchObject({
      CPU_COUNT: String(availableParallelism()),
    });

    const validate = capture();
    expect(await validateCommand.run({ positionals: [root], flags: {} }, validate)).toBe(0);
    expect(validate.out()).toContain("valid (1 machines, 1 images, 1 stacks, 1 services)");

    const apply = capture();
    const code = await createApplyCommand({ stackContext: { pollMs: 250 } }).run(
      { positionals: [root], flags: { machine, "state-dir": join(dir, "state") } },
      apply,
    );
    expect(apply.err()).toBe("");
    expect(code).toBe(0);
    expect(apply.out()).toContain(`${machine}: Ready (1 stacks, 1 services, 1 changed)`);
    const id = await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stack}`);
    expect(await docker("inspect", "-f", "{{.State.Health.Status}}", id)).toBe("healthy");
    expect(await docker("exec", id, "cat", "/www/machine.txt")).toBe(`served by ${machine}`);
  });

  it("refuses a directory that is not empty, leaving it as it was", async () => {
    const again = capture();
    const before = await readFile(join(root, "berth.yaml"), "utf8");
    expect(await initCommand.run({ positionals: [root], flags: {} }, again)).toBe(2);
    expect(again.err()).toContain(`berth init: ${root} is not empty`);
    expect(await readFile(join(root, "berth.yaml"), "utf8")).toBe(before);
  });
});
