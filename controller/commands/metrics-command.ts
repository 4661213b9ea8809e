// `berth metrics DIR --machine NAME`: one Prometheus exposition without a running agent
// (for node-exporter's textfile collector or for debugging).
import { rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { Registry } from "prom-client";
import { createBerthMetrics } from "../../metrics/berth-metrics.ts";
import { createNvidiaSmiReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import { renderExposition } from "../../metrics/metrics-handler.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { selectMachine } from "../../profiles/select-machine.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { stringFlag, boolFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliEngine, loadForCli } from "../load-for-cli.ts";

const DEFAULT_STATE_DIR = "/var/lib/berth";

export const metricsCommand: CommandSpec = {
  name: "metrics",
  usage: [
    "Usage: berth metrics DIR [--machine NAME] [--state-dir PATH] [--output FILE] [--no-gpu]",
    "",
    "Reads the desired state in DIR, the agent's status records in --state-dir (default",
    `$BERTH_STATE_DIR or ${DEFAULT_STATE_DIR}), one look at the Docker engine and nvidia-smi, and prints`,
    "the metrics the agent serves at /metrics. --output writes them atomically to FILE instead",
    "(e.g. /var/lib/node_exporter/textfile/berth.prom). The machine is --machine, $BERTH_MACHINE,",
    "or the one whose hostnames list this host.",
  ].join("\n"),
  options: { machine: { type: "string" }, "state-dir": { type: "string" }, output: { type: "string" }, "no-gpu": { type: "boolean" } },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir || args.positionals.length > 1) {
      io.stderr(`${metricsCommand.usage}\n`);
      return 2;
    }
    const loaded = await loadForCli(dir, io);
    const flag = stringFlag(args, "machine");
    const env = io.env["BERTH_MACHINE"];
    let machine = flag ?? env;
    if (loaded.ok) {
      const selection = selectMachine(loaded.state, { ...(flag ? { flag } : {}), ...(env ? { env } : {}), hostname: hostname() });
      if (!selection.ok) {
        io.stderr(`berth metrics: ${selection.message}\n`);
        return 2;
      }
      machine = selection.machine;
    } else {
      io.stderr(
        `berth metrics: ${dir} does not validate (${loaded.problems.length} problem${loaded.problems.length === 1 ? "" : "s"}; ` +
          `see berth validate); berth_desired_state_valid is 0\n`,
      );
    }
    if (!machine) {
      io.stderr("berth metrics: pass --machine NAME (the desired state does not validate, so the hostname cannot pick one)\n");
      return 2;
    }
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? DEFAULT_STATE_DIR);
    const gpu = boolFlag(args, "no-gpu")
      ? undefined
      : createNvidiaSmiReader({
          onProblem: (message) => (message.includes("not found") ? undefined : io.stderr(`berth metrics: ${message}\n`)),
        });
    const metrics = createBerthMetrics({
      registry: new Registry(),
      store,
      engine: createDockerEngine(cliEngine(io)),
      ...(gpu ? { gpu } : {}),
      machine,
      scrapeWaitMs: 15_000,
    });
    metrics.setDesiredState(loaded);
    const { body } = await renderExposition(metrics.registry);
    const engineError = metrics.engineError();
    if (engineError) io.stderr(`berth metrics: the Docker engine did not answer (${engineError}); service health is left out\n`);
    const output = stringFlag(args, "output");
    if (output) await writeReadable(output, body);
    else io.stdout(body);
    return 0;
  },
};

/** Temp file + rename, mode 0644: node-exporter (another user) reads it and never sees half a file. */
async function writeReadable(path: string, body: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, body, { mode: 0o644 });
  await rename(temp, path).catch(async (error: unknown) => {
    await unlink(temp).catch(() => undefined);
    throw error;
  });
}
