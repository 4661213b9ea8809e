// `berth metrics DIR --machine NAME` on the example fleet and the real engine: one exposition
// that promtool accepts, on stdout or written atomically for node-exporter's textfile collector.
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsCommand } from "../../controller/commands/metrics-command.ts";
import { imageRecord, serviceRecord, sourceRecord } from "../../metrics/fixtures/status-records.ts";
import { runCommand } from "../../platform/run-command.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { copyExampleFleet } from "../support/example-fleet.ts";
import type { ExampleCopy } from "../support/example-fleet.ts";

let workDir = "";
// The example under this test's own stack names: the example agent may run on this engine.
let fleet: ExampleCopy;
let FLEET = "";
let OBSERVABILITY = "";

async function metricsCli(args: string[], flags: Record<string, string | boolean>): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await metricsCommand.run({ positionals: args, flags }, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {} });
  return { code, out, err };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), `berth-t-${randomBytes(4).toString("hex")}-`));
  fleet = await copyExampleFleet(`berth-t-metrics-${randomBytes(3).toString("hex")}`, { parent: workDir });
  FLEET = fleet.root;
  OBSERVABILITY = fleet.stack("observability");
  const store = await openStatusStore(join(workDir, "state"));
  await store.put(sourceRecord("0123456789abcdef0123456789abcdef01234567"));
  await store.put(imageRecord("mainpc", "base-python", { imageId: "sha256:not-on-this-engine", sizeBytes: 100 }));
  await store.put(serviceRecord(OBSERVABILITY, "observability_center", false));
});

afterAll(async () => {
  await fleet?.cleanup();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("berth metrics", () => {
  it("prints one exposition of the example fleet that promtool accepts", async () => {
    const result = await metricsCli([FLEET], { machine: "mainpc", "state-dir": join(workDir, "state"), "no-gpu": true });
    const lint = await runCommand("promtool", ["check", "metrics"], { input: result.out, allowFailure: true, timeoutMs: 30_000 });

    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toContain("berth_desired_state_valid 1");
    expect(result.out).toMatch(/^berth_desired_state_info\{revision="[^"]+"\} 1$/m);
    expect(result.out).toContain(`berth_service_health{stack="${OBSERVABILITY}",service="observability_center",state="missing"} 1`);
    expect(result.out).not.toContain('berth_image_size_bytes{image="base-python"');
    expect(`${lint.stdout}${lint.stderr}`).toBe("");
    expect(lint.exitCode).toBe(0);
  });

  it("writes the exposition atomically and world-readable with --output", async () => {
    const output = join(workDir, "berth.prom");

    const result = await metricsCli([FLEET], { machine: "mainpc", "state-dir": join(workDir, "state"), "no-gpu": true, output });

    expect(result.code).toBe(0);
    expect(result.out).toBe("");
    expect(await readFile(output, "utf8")).toContain("berth_build_info{");
    expect((await stat(output)).mode & 0o777).toBe(0o644);
    expect((await readdir(workDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("reports an invalid desired state as berth_desired_state_valid 0 and still needs a machine", async () => {
    const missing = join(workDir, "no-such-dir");

    const withMachine = await metricsCli([missing], { machine: "mainpc", "state-dir": join(workDir, "state"), "no-gpu": true });
    const withoutMachine = await metricsCli([missing], { "state-dir": join(workDir, "state"), "no-gpu": true });

    expect(withMachine.code).toBe(0);
    expect(withMachine.out).toContain("berth_desired_state_valid 0");
    expect(withMachine.err).toContain("does not validate");
    expect(withoutMachine.code).toBe(2);
  });
});
