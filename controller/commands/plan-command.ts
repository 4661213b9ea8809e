// `berth plan DIR --machine NAME [--json]`: what the agent would do on this host, without doing it.
import { hostname } from "node:os";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { selectMachine } from "../../profiles/select-machine.ts";
import { planImagesForMachine } from "../../reconcilers/images/images-reconciler.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { formatProblem } from "../../desired-state/problem.ts";
import { boolFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { loadForCli } from "../load-for-cli.ts";
import { formatHostPlan, planHost } from "../plan-host.ts";

export const planCommand: CommandSpec = {
  name: "plan",
  summary: "show what the agent would build, pull, start, update or remove on this host",
  usage: "Usage: berth plan DIR [--machine NAME] [--state-dir DIR] [--json]\n\nReads the desired state and one batched look at the engine; changes nothing. Exit 0.",
  options: { machine: { type: "string" }, "state-dir": { type: "string" }, json: { type: "boolean" } },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) {
      io.stderr(`${planCommand.usage}\n`);
      return 2;
    }
    const loaded = await loadForCli(dir);
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.stderr(`${formatProblem(problem)}\n`);
      return 1;
    }
    const flag = stringFlag(args, "machine");
    const env = io.env["BERTH_MACHINE"];
    const selection = selectMachine(loaded.state, { ...(flag ? { flag } : {}), ...(env ? { env } : {}), hostname: hostname() });
    if (!selection.ok) {
      io.stderr(`berth plan: ${selection.message}\n`);
      return 2;
    }
    const engine = createDockerEngine();
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth");
    const observed = await engine.observe();
    const images = await planImagesForMachine(loaded.state, selection.machine, { engine, store }, { observed });
    const plan = planHost({ state: loaded.state, machine: selection.machine, imageSteps: images.steps, observed, statuses: new Map(store.all().map((s) => [s.key, s])) });
    io.stdout(boolFlag(args, "json") ? `${JSON.stringify(plan, null, 2)}\n` : formatHostPlan(plan));
    return 0;
  },
};
