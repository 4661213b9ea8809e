// `berth plan DIR --machine NAME [--json]`: what the agent would do on this host, without doing it.
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { forMachine } from "../../desired-state/desired-state.ts";
import { planImagesForMachine } from "../../reconcilers/images/images-reconciler.ts";
import { createRegistryClient } from "../../reconcilers/images/registry-client.ts";
import { readScanCache } from "../../reconcilers/images/scan-cache.ts";
import { refsToLookUp, thirdPartyServices } from "../../reconcilers/stacks/plan-third-party.ts";
import { lookUpDigests } from "../../reconcilers/stacks/third-party-images.ts";
import { resolveStackSources } from "../../reconcilers/stacks/stack-sources.ts";
import { openStatusStore, statusIn } from "../../status/status-store.ts";
import { boolFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliEngine, loadWithMachine } from "../load-for-cli.ts";
import { formatHostPlan, planHost } from "../plan-host.ts";

export const planCommand: CommandSpec = {
  name: "plan",
  usage:
    "Usage: berth plan DIR [--machine NAME] [--state-dir DIR] [--policy FILE] [--json]\n\nReads the desired state and one " +
    "batched look at the engine; changes nothing. Exit 0.\nA stack the host policy refuses shows as `refused` with its first violation.",
  options: { machine: { type: "string" }, "state-dir": { type: "string" }, policy: { type: "string" }, json: { type: "boolean" } },
  async run(args, io) {
    const loaded = await loadWithMachine(args, io, planCommand.usage);
    if (!loaded.ok) return loaded.code;
    const { state, machine, denied } = loaded;
    const engine = createDockerEngine(cliEngine(io));
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth");
    const observed = await engine.observe();
    const images = await planImagesForMachine(state, machine, { engine, store }, { observed });
    const statuses = new Map(store.all().map((s) => [s.key, s]));
    const tracked = forMachine(state, machine)
      .stacks.filter((stack) => !denied?.has(stack.name))
      .flatMap((stack) => refsToLookUp(thirdPartyServices(stack, state, (key) => statusIn(statuses, key))));
    const registry = createRegistryClient();
    const lookups = await lookUpDigests(tracked, (ref) => registry.resolveDigest(ref));
    // The same host paths the reconciler would mount (content-addressed copies, data folders), nothing created.
    const stacks = await Promise.all(
      state.stacks.map((stack) => resolveStackSources(stack, { root: state.root, stateDir: store.dir, materialize: false })),
    );
    // The vulnerability gate's cached results, read only: plan never runs a scanner.
    const scans = { cache: await readScanCache(store.dir), now: new Date() };
    const plan = planHost({ state: { ...state, stacks }, machine, imageSteps: images.steps, observed, statuses, lookups, denied, scans });
    io.stdout(boolFlag(args, "json") ? `${JSON.stringify(plan, null, 2)}\n` : formatHostPlan(plan));
    return 0;
  },
};
