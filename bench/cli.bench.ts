// Whole-process CLI benchmarks of the shipped bundle (npm run build), each measured side by side
// in one run: `berth --help`, a warm `berth validate` of the example, and a no-op `berth apply`
// of 50 running services against a no-op `docker compose up -d` of the same 50 services.
import { rename, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { effectiveComposePath } from "../reconcilers/stacks/effective-compose.ts";
import { runCommand } from "../platform/run-command.ts";
import { removeRollbackTags } from "../test/support/example-fleet.ts";
import type { BenchRow } from "./bench-row.ts";
import { interleavedMediansMs, medianMs } from "./bench-row.ts";
import { generateFleet } from "./fleet-generator.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVICES = 50;

function berth(dist: string, args: string[]): Promise<unknown> {
  return runCommand("node", [join(ROOT, "bin/berth.cjs"), ...args], {
    env: { ...process.env, BERTH_COMPILED_DIR: dist, BERTH_LOG_LEVEL: "silent" },
    timeoutMs: 120_000,
  });
}

export async function run(): Promise<BenchRow[]> {
  const dist = join(ROOT, "bench/.compiled-cli");
  await runCommand("node", ["scripts/build.mjs", `--outdir=${dist}`], { cwd: ROOT, timeoutMs: 120_000 });
  const fleet = await generateFleet({ services: SERVICES, images: 0, perStack: SERVICES });
  const stack = `bench-cli-${Math.random().toString(36).slice(2, 8)}`;
  await rename(join(fleet, "stacks", "stack-0"), join(fleet, "stacks", stack));
  const stateDir = `${fleet}-state`;
  const example = join(ROOT, "examples/fleet");
  try {
    const [nodeAlone = Number.NaN, help = Number.NaN] = await interleavedMediansMs(15, [
      () => runCommand("node", ["-e", "0"], { timeoutMs: 30_000 }),
      () => berth(dist, ["--help"]),
    ]);
    await berth(dist, ["validate", example, "--state-dir", stateDir]);
    const validate = await medianMs(9, () => berth(dist, ["validate", example, "--state-dir", stateDir]));

    const first = await runCommand("node", [join(ROOT, "bin/berth.cjs"), "apply", fleet, "--machine", "pc2", "--state-dir", stateDir], {
      env: { ...process.env, BERTH_COMPILED_DIR: dist, BERTH_LOG_LEVEL: "silent" },
      timeoutMs: 600_000,
      allowFailure: true,
    });
    if (first.exitCode !== 0)
      throw new Error(`the first apply of ${SERVICES} services failed: ${first.stdout}${first.stderr}`.slice(0, 500));
    const applyArgs = ["apply", fleet, "--machine", "pc2", "--state-dir", stateDir];
    const composeArgs = [
      "compose",
      "-p",
      stack,
      "--project-directory",
      join(fleet, "stacks", stack),
      "-f",
      effectiveComposePath(stateDir, stack),
      "up",
      "-d",
    ];
    const [apply = Number.NaN, compose = Number.NaN] = await interleavedMediansMs(7, [
      () => berth(dist, applyArgs),
      () => runCommand("docker", composeArgs, { timeoutMs: 120_000 }),
    ]);
    const load = `load average ${loadavg()[0]?.toFixed(1)}`;
    const round = (ms: number) => Math.round(ms * 10) / 10;

    return [
      {
        name: "berth --help, whole process",
        value: round(help),
        unit: "ms",
        target: "≤ 120 ms",
        pass: help <= 120,
        note: `median of 15; \`node -e 0\` alone ${round(nodeAlone)} ms (the two run in turns); ${load}`,
      },
      {
        name: "berth validate examples/fleet, warm, whole process",
        value: round(validate),
        unit: "ms",
        target: "≤ 300 ms",
        pass: validate <= 300,
        note: `median of 9, the loaded desired state from the state dir's cache; ${load}`,
      },
      {
        name: `no-op berth apply, ${SERVICES} running services, whole process`,
        value: round(apply),
        unit: "ms",
        target: `≤ ${round(compose / 2)} ms (0.5× compose)`,
        pass: apply <= compose / 2,
        note:
          `no-op \`docker compose up -d\` of the same ${SERVICES} services: ${round(compose)} ms (ratio ` +
          `${(apply / compose).toFixed(2)}); \`node -e 0\` alone ${round(nodeAlone)} ms (${(nodeAlone / compose).toFixed(2)}× compose); ` +
          `medians of 7, run in turns; ${load}`,
      },
    ];
  } finally {
    await runCommand("docker", ["compose", "-p", stack, "down", "-t", "1"], { allowFailure: true, timeoutMs: 300_000 });
    await removeRollbackTags([stack]);
    await rm(fleet, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}
