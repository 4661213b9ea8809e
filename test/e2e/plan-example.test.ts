// The foundation's must-show on the real engine: `berth plan examples/fleet --machine pc2`
// lists the right actions, and after the example is built and started it lists nothing to do.
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import type { HostPlan } from "../../controller/plan-host.ts";
import { runCommand } from "../../platform/run-command.ts";
import { copyExampleFleet } from "../support/example-fleet.ts";
import type { ExampleCopy } from "../support/example-fleet.ts";

async function berth(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: { ...process.env, BERTH_LOG_LEVEL: "silent" },
  });
  return { code, out, err };
}

describe("berth plan on the example fleet", () => {
  let fleet: ExampleCopy;
  let root: string;
  let stateDir: string;

  beforeAll(async () => {
    // A copy without the registry line (this host builds locally; no registry runs in this test),
    // with its own stack names and host port: the example agent may run or have run on this engine.
    fleet = await copyExampleFleet(`berth-t-plan-${Math.random().toString(36).slice(2, 8)}`, { registry: false });
    root = fleet.root;
    stateDir = `${root}-state`;
    // The example's third-party image, built locally as the set-up script does (here not pushed).
    await runCommand("bash", [new URL("../../scripts/example-cache.sh", import.meta.url).pathname]);
  });

  afterAll(async () => {
    await fleet.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("plans the pc2 hierarchy in dependency order and the services after their images", async () => {
    const { code, out } = await berth("plan", root, "--machine", "pc2", "--state-dir", stateDir, "--json");
    expect(code).toBe(0);
    const plan = JSON.parse(out) as HostPlan;
    const images = plan.lines.filter((l) => l.kind === "image").map((l) => l.name);
    expect(images).toEqual(["base-python", "base-utils", "base-cpu-pydeps", "memory-fusion-hub", "observability-center"]);
    expect(images).not.toContain("base-gpu");
    const services = plan.lines.filter((l) => l.kind === "service");
    expect(services.map((s) => [s.name, s.action])).toEqual([
      [`${fleet.stack("memory-fusion-hub")}/cache`, "create"],
      [`${fleet.stack("memory-fusion-hub")}/memory_fusion_hub`, "create"],
      [`${fleet.stack("observability")}/observability_center`, "create"],
    ]);
  });

  it("lists nothing to do once the example has been applied", async () => {
    const applied = await berth("apply", root, "--machine", "pc2", "--state-dir", stateDir);
    expect(applied.err).toBe("");
    expect(applied.code).toBe(0);
    const { code, out } = await berth("plan", root, "--machine", "pc2", "--state-dir", stateDir, "--json");
    expect(code).toBe(0);
    const plan = JSON.parse(out) as HostPlan;
    expect(plan.changes).toBe(0);
    expect(plan.lines.filter((l) => l.kind === "image").every((l) => l.action === "reuse")).toBe(true);
    expect(plan.lines.filter((l) => l.kind === "service").every((l) => l.action === "unchanged")).toBe(true);
    const health = await runCommand("docker", [
      "ps",
      "--filter",
      `label=com.docker.compose.project=${fleet.stack("memory-fusion-hub")}`,
      "--format",
      "{{.Status}}",
    ]);
    expect(health.stdout).toContain("(healthy)");
  });
});
