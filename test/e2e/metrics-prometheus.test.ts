// The metrics on a real engine, scraped by a real Prometheus: promtool accepts the exposition
// and the rules, every dashboard and alert expression runs, every metric they use has a series,
// and the series of a removed service vanish on the next scrape.
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadForCli } from "../../controller/load-for-cli.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { forMachine } from "../../desired-state/desired-state.ts";
import { createBerthMetrics } from "../../metrics/berth-metrics.ts";
import type { BerthMetrics } from "../../metrics/berth-metrics.ts";
import { desiredStateFixture } from "../../metrics/fixtures/desired-state.ts";
import { imageRecord, serviceRecord, sourceRecord, waitingCondition } from "../../metrics/fixtures/status-records.ts";
import { createNvidiaSmiReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import { metricsHandler } from "../../metrics/metrics-handler.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { runCommand } from "../../platform/run-command.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { freeLoopbackPort } from "../support/local-registry.ts";

const execFileP = promisify(execFile);
const PREFIX = `berth-t-${randomBytes(4).toString("hex")}`;
const STACK = PREFIX;
const MACHINE = "mainpc";
const MIB = 1024 * 1024;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(ROOT, "test/fixtures/nvidia-smi/");
const DASHBOARD = join(ROOT, "metrics/dashboards/berth.json");
const RULES = join(ROOT, "metrics/alerts/berth.rules.yml");
/** Grafana's variables, replaced the way Grafana would for "All" and a 1 h range. */
const GRAFANA_VARIABLES: [RegExp, string][] = [
  [/\$host\b/g, ".*"],
  [/\$stack\b/g, ".*"],
  [/\$__rate_interval\b/g, "1m"],
  [/\$__range\b/g, "1h"],
  [/\$__interval\b/g, "15s"],
];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("docker", args, { timeout: 60_000 });
  return stdout.trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  fatal?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = fatal?.();
    if (failure) throw new Error(`${what}: ${failure}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

type PromResult = { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };

let workDir = "";
let store: StatusStore;
let metrics: BerthMetrics;
let fleet: DesiredState;
let server: Server;
let agentUrl = "";
let promUrl = "";
let prometheus: ChildProcess | undefined;
let prometheusLog = "";
const events = new AbortController();

function desiredWith(services: string[]): DesiredState {
  const test = desiredStateFixture({
    revision: fleet.revision,
    machine: MACHINE,
    services: services.map((service) => ({ stack: STACK, service })),
    images: [],
  });
  return { ...fleet, stacks: [...fleet.stacks, ...test.stacks] };
}

async function query(expr: string): Promise<PromResult> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as PromResult;
}

async function startContainer(service: string, image: string, extra: string[], command: string[]): Promise<string> {
  return docker(
    "run",
    "-d",
    "--name",
    `${PREFIX}-${service}`,
    "--label",
    "io.berth.managed=true",
    "--label",
    `io.berth.stack=${STACK}`,
    "--label",
    `io.berth.service=${service}`,
    ...extra,
    image,
    ...command,
  );
}

beforeAll(async () => {
  const image = await ensureBusyboxImage();
  const imageId = await docker("image", "inspect", "-f", "{{.Id}}", image);
  workDir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));

  // The example fleet's desired state, plus this test's stack of real busybox containers.
  const loaded = await loadForCli(join(ROOT, "examples/fleet"));
  if (!loaded.ok) throw new Error(`examples/fleet does not validate: ${JSON.stringify(loaded.problems)}`);
  // A minReduction budget (met: 12 MiB less than the previous image) for the size-reduction-against-budget panel.
  fleet = {
    ...loaded.state,
    images: loaded.state.images.map((i) => (i.name === "base-python" ? { ...i, budgets: { ...i.budgets, minReduction: 0.05 } } : i)),
  };

  store = await openStatusStore(join(workDir, "state"));
  await store.put(sourceRecord(fleet.revision));
  for (const spec of forMachine(fleet, MACHINE).images) {
    const size = Math.round((spec.budgets.sizeMiB ?? 200) * MIB * (spec.name === "family-torch" ? 1.1 : 0.8));
    const record = imageRecord(MACHINE, spec.name, {
      imageId,
      sizeBytes: size,
      sharedBytes: Math.round(size * 0.6),
      previousSizeBytes: size + 12 * MIB,
      durationSeconds: 40,
      cacheHitRatio: spec.name === "family-torch" ? 0.4 : 0.9,
    });
    const counts = { critical: spec.name === "family-torch" ? 1 : 0, high: 2, medium: 5, low: 9, negligible: 0, unknown: 1 };
    await store.put({ ...record, vulnerabilities: { imageId, scanner: "trivy", scannedAt: Date.now(), counts } });
  }
  for (const stack of forMachine(fleet, MACHINE).stacks)
    for (const s of stack.services) await store.put(serviceRecord(stack.name, s.name, false));
  for (const service of ["api", "llm", "batch", "gone"]) await store.put(serviceRecord(STACK, service, service !== "batch"));

  await startContainer("api", image, ["--health-cmd", "true", "--health-interval", "1s", "--health-start-period", "0s"], ["sleep", "600"]);
  const llm = await startContainer("llm", image, [], ["sleep", "600"]);
  await startContainer("gone", image, [], ["sleep", "600"]);
  const llmPid = Number(await docker("inspect", "-f", "{{.State.Pid}}", llm));
  await until("api healthy", 30_000, async () =>
    (await docker("inspect", "-f", "{{.State.Health.Status}}", `${PREFIX}-api`)) === "healthy" ? true : undefined,
  );

  // nvidia-smi stand-in: the real H100 output, with the VRAM holder's PID being the llm container's.
  const smi = join(workDir, "nvidia-smi");
  await writeFile(
    smi,
    `#!/bin/sh\ncase "$1" in\n  --query-gpu=*) cut -d, -f1-7 "${FIXTURES}query-gpu-busy.csv" ;;\n  --query-compute-apps=*) sed ` +
      `"s/^425,/${llmPid},/" "${FIXTURES}query-apps-busy.csv" ;;\nesac\n`,
  );
  await chmod(smi, 0o755);

  const engine = createDockerEngine();
  metrics = createBerthMetrics({ registry: new Registry(), store, engine, gpu: createNvidiaSmiReader({ command: smi }), machine: MACHINE });
  metrics.setDesiredState({ ok: true, state: desiredWith(["api", "llm", "batch", "gone", "big-model"]) });

  // Restarts come from the engine's real die events.
  const since = Math.floor(Date.now() / 1000) - 1;
  void engine.events({ since, signal: events.signal, onEvent: (event) => metrics.engineEvent(event) }).catch(() => undefined);
  await startContainer("batch", image, [], ["sh", "-c", "exit 3"]);

  // What the reconcilers would report, including the VRAM admission of a model that does not fit.
  const admission = await metrics.admitGpu({ vramMiB: 80_000 });
  if (admission.ok) throw new Error("an 80 GB model cannot fit the busy H100 fixture");
  await store.put(serviceRecord(STACK, "big-model", false, [waitingCondition(admission.reason, admission.message)]));
  metrics.events.reconciled("images", "success", 12.5);
  metrics.events.reconciled("stacks", "failure", 3.2);
  metrics.events.reconciled("pass", "success", 16);
  metrics.events.imageBuilt("base-python", MACHINE, "success");
  metrics.events.imagePulled("family-torch", MACHINE, "success");
  metrics.events.rollout(STACK, "api", "success");
  metrics.events.rollout(STACK, "llm", "rolled_back");
  metrics.events.rollback(STACK, "llm", "HealthTimeout");
  metrics.events.pruned(4, 512 * MIB);

  server = createServer(metricsHandler(metrics.registry));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no server address");
  agentUrl = `http://127.0.0.1:${address.port}`;
  await until("a die event of batch", 15_000, async () =>
    (await (await fetch(`${agentUrl}/metrics`)).text()).includes(`berth_service_restarts_total{stack="${STACK}",service="batch"} 1`)
      ? true
      : undefined,
  );

  // A real Prometheus scraping every second, with berth's alerting rules loaded.
  const promPort = await freeLoopbackPort();
  promUrl = `http://127.0.0.1:${promPort}`;
  const config = join(workDir, "prometheus.yml");
  await writeFile(
    config,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      `rule_files: ["${RULES}"]`,
      "scrape_configs:",
      "  - job_name: berth",
      `    static_configs: [{ targets: ["127.0.0.1:${address.port}"] }]`,
      "",
    ].join("\n"),
  );
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(workDir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  prometheus.stderr?.on("data", (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4000)));
  prometheus.on("error", (error) => (prometheusLog += `\nspawn failed: ${error.message}`));
  const prometheusDead = (): string | undefined =>
    prometheus?.exitCode !== null || prometheusLog.includes("spawn failed")
      ? `prometheus is not running (install the Debian package: scripts/test-env.sh); log:\n${prometheusLog}`
      : undefined;
  await until("Prometheus ready", 30_000, async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), prometheusDead);
  await until("three scrapes of berth", 30_000, async () => {
    const result = await query('count_over_time(up{job="berth"}[1m])');
    return Number(result.data?.result[0]?.value[1] ?? 0) >= 3 ? true : undefined;
  });
});

afterAll(async () => {
  events.abort();
  prometheus?.kill("SIGTERM");
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  const mine = await docker("ps", "-aq", "--filter", `name=^${PREFIX}-`).catch(() => "");
  if (mine) await docker("rm", "-f", ...mine.split("\n")).catch(() => undefined);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function dashboardExpressions(dashboard: {
  panels: { targets?: { expr: string }[] }[];
  annotations: { list: { expr?: string }[] };
  templating: { list: { definition?: string }[] };
}): string[] {
  const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const annotations = dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : []));
  // label_values(SELECTOR, label) is Grafana's; Prometheus evaluates its SELECTOR.
  const variables = dashboard.templating.list.flatMap((v) => {
    const match = /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? "");
    return match?.[1] ? [match[1]] : [];
  });
  return [...targets, ...annotations, ...variables];
}

async function ruleExpressions(): Promise<string[]> {
  const rules = parseYaml(await readFile(RULES, "utf8")) as { groups: { rules: { expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

function substitute(expr: string): string {
  return GRAFANA_VARIABLES.reduce((text, [pattern, value]) => text.replace(pattern, value), expr);
}

describe("berth metrics scraped by a real Prometheus", () => {
  it("passes promtool check metrics on the served exposition", async () => {
    const body = await (await fetch(`${agentUrl}/metrics`)).text();

    const result = await runCommand("promtool", ["check", "metrics"], { input: body, allowFailure: true, timeoutMs: 30_000 });

    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.exitCode).toBe(0);
  });

  it("passes promtool check rules", async () => {
    const result = await runCommand("promtool", ["check", "rules", RULES], { allowFailure: true, timeoutMs: 30_000 });

    expect(result.stdout).toContain("SUCCESS: 8 rules found");
    expect(result.exitCode).toBe(0);
  });

  it("runs every dashboard and alert expression without an error", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Parameters<typeof dashboardExpressions>[0];
    const expressions = [...dashboardExpressions(dashboard), ...(await ruleExpressions())].map(substitute);

    const failures: string[] = [];
    for (const expr of expressions) {
      const result = await query(expr);
      if (result.status !== "success") failures.push(`${expr}: ${result.error ?? result.status}`);
    }

    expect(expressions.length).toBeGreaterThan(40);
    expect(failures).toEqual([]);
  });

  it("has at least one series of every metric the dashboard and the rules use", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Parameters<typeof dashboardExpressions>[0];
    const text = [...dashboardExpressions(dashboard), ...(await ruleExpressions())].join("\n");
    const names = [...new Set(text.match(/\bberth_[a-z0-9_]+\b/g) ?? [])].sort();

    const empty: string[] = [];
    for (const name of names) {
      const result = await query(name);
      if ((result.data?.result.length ?? 0) === 0) empty.push(name);
    }

    expect(names.length).toBeGreaterThan(30);
    expect(empty).toEqual([]);
  });

  it("shows what happened on the host with the expected values", async () => {
    const health = await query(`berth_service_health{stack="${STACK}"} == 1`);
    const vram = await query(`berth_service_gpu_memory_bytes{stack="${STACK}"}`);
    const waiting = await query(`berth_service_waiting{stack="${STACK}"}`);
    const budgets = await query(`berth_budget_exceeded{image="family-torch"} == 1`);

    const states = Object.fromEntries((health.data?.result ?? []).map((r) => [r.metric["service"], r.metric["state"]]));
    expect(states).toEqual({ api: "healthy", llm: "none", batch: "missing", gone: "none", "big-model": "missing" });
    expect(vram.data?.result.map((r) => [r.metric["service"], r.metric["gpu"], Number(r.value[1])])).toEqual([["llm", "0", 7044 * MIB]]);
    expect(waiting.data?.result.map((r) => [r.metric["service"], r.metric["reason"]])).toEqual([["big-model", "InsufficientVRAM"]]);
    expect(budgets.data?.result.map((r) => r.metric["budget"]).sort()).toEqual(["cache_hit_ratio", "size"]);
  });

  it("drops the series of a removed service on the next scrape", async () => {
    const before = await query(`count({stack="${STACK}",service="gone"})`);
    expect(Number(before.data?.result[0]?.value[1] ?? 0)).toBeGreaterThan(0);

    await docker("rm", "-f", `${PREFIX}-gone`);
    await store.remove(`service/${STACK}/gone`);
    metrics.setDesiredState({ ok: true, state: desiredWith(["api", "llm", "batch", "big-model"]) });
    metrics.events.reconciled("stacks", "success", 0.4);
    const removedAt = Date.now();
    const body = await (await fetch(`${agentUrl}/metrics`)).text();
    const vanishedAfterMs = await until("the gone service's series to vanish in Prometheus", 10_000, async () => {
      const after = await query(`count({stack="${STACK}",service="gone"})`);
      return after.data?.result.length === 0 ? Date.now() - removedAt : undefined;
    });

    console.info(`metrics e2e: the removed service's series left Prometheus ${vanishedAfterMs} ms after removal (scrape interval 1 s)`);
    expect(body).not.toContain('service="gone"');
    expect(vanishedAfterMs).toBeLessThan(3000);
  });
});
