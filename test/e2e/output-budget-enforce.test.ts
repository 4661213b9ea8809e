// Real-engine test of `budgets.enforce: true`: a new image that breaches an enforced budget is
// built, but the rollout of the service using it waits (Waiting/BudgetEnforced) and the running
// version keeps serving; once the budget allows the image, the rollout goes ahead.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { planCommand } from "../../controller/commands/plan-command.ts";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { removeBuiltStack } from "../support/remove-built-stack.ts";
import { docker } from "../support/stacks-harness.ts";

describe("budgets.enforce", () => {
  const prefix = `output-budget-${Math.random().toString(36).slice(2, 8)}`;
  const service = `${prefix}-web`;
  const stack = prefix;
  let dir: string;
  let root: string;
  let stateDir: string;
  const apply = createApplyCommand({ stackContext: { pollMs: 250 } });

  /** The app image is busybox plus files (no RUN: builds need no network), padded by `padMiB` MiB. */
  async function writeApp(padMiB: number, budgetMiB: number): Promise<void> {
    const app = join(root, "stacks", stack, "app");
    await mkdir(join(app, "www"), { recursive: true });
    await writeFile(join(app, "www", "index.html"), `pad-${padMiB}\n`);
    await writeFile(join(app, "www", "health"), "ok\n");
    await writeFile(join(app, "pad"), Buffer.alloc(padMiB * 1024 * 1024));
    await writeFile(
      join(app, "Dockerfile"),
      `FROM berth-test/busybox:1\nCOPY pad /pad\nCOPY www /www\nHEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD wget -q ` +
        `-O /dev/null http://127.0.0.1:8080/health || exit 1\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    );
    await writeFile(
      join(root, "stacks", stack, "compose.yaml"),
      `services:\n  ${service}:\n    build: ./app\n    stop_grace_period: 1s\n    x-berth:\n      budgets: { sizeMiB: ` +
        `${budgetMiB}, enforce: true }\n`,
    );
  }

  async function run(): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await apply.run(
      { positionals: [root], flags: { machine: "box", "state-dir": stateDir } },
      { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
    );
    return { code, out: out.join(""), err: err.join("") };
  }

  async function running(): Promise<{ id: string; image: string }[]> {
    const ids = (await docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stack}`)).split("\n").filter(Boolean);
    return Promise.all(ids.map(async (id) => ({ id, image: await docker("inspect", "-f", "{{.Image}}", id) })));
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    root = join(dir, "desired");
    stateDir = join(dir, "state");
    await mkdir(join(root, "profiles"), { recursive: true });
    await writeFile(
      join(root, "berth.yaml"),
      "version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 20s, monitor: 1s }\n",
    );
    await writeFile(join(root, "profiles", "box.json"), "{}");
  });

  afterAll(async () => {
    await removeBuiltStack(stack, service);
    await rm(dir, { recursive: true, force: true });
  });

  it("holds the rollout of an image over an enforced budget, leaving the running version serving", async () => {
    await writeApp(0, 4);
    expect((await run()).code).toBe(0);
    const [before] = await running();

    await writeApp(8, 4);
    const { code, err } = await run();

    expect(code).toBe(1);
    expect(err).toContain(`${stack}/${service}: BudgetEnforced: rollout waits: image ${service} breaches an enforced budget (size `);
    expect(await running()).toEqual([before]);
    const store = await openStatusStore(stateDir);
    const conditions = store.get({ kind: "service", stack, service })?.conditions ?? [];
    expect(getCondition(conditions, "Waiting")).toMatchObject({ status: "True", reason: "BudgetEnforced" });
    expect(getCondition(conditions, "Ready")).toMatchObject({ status: "False", reason: "BudgetEnforced" });
    expect(getCondition(store.get({ kind: "image", machine: "box", name: service })?.conditions ?? [], "BudgetExceeded")).toMatchObject({
      status: "True",
      reason: "BudgetEnforced",
    });
  });

  it("`berth plan` says which rollout the enforced budget holds and why", async () => {
    const out: string[] = [];

    const code = await planCommand.run(
      { positionals: [root], flags: { machine: "box", "state-dir": stateDir } },
      { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
    );

    expect(code).toBe(0);
    const line = out
      .join("")
      .split("\n")
      .find((l) => l.includes(`${stack}/${service}`));
    expect(line).toMatch(
      / blocked +BudgetEnforced +BudgetEnforced: rollout waits: image \S+ breaches an enforced budget \(size [\d.]+ MiB > budget 4 MiB\)/,
    );
  });

  it("rolls the held image out once the budget allows it, without building it again", async () => {
    await writeApp(8, 64);
    const { code, out } = await run();

    expect(code).toBe(0);
    expect(out).toContain(`✓ image ${service}  reuse UpToDate`);
    const store = await openStatusStore(stateDir);
    const [after] = await running();
    expect(after?.image).toBe(store.get({ kind: "image", machine: "box", name: service })?.build?.imageId);
    expect(getCondition(store.get({ kind: "image", machine: "box", name: service })?.conditions ?? [], "BudgetExceeded")).toBeUndefined();
    expect(getCondition(store.get({ kind: "service", stack, service })?.conditions ?? [], "Waiting")).toBeUndefined();
  });
});
