// `berth status [--json]`: what the running agent (or, without one, the state dir and the engine) says.
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { describeEngine } from "../../platform/engine-selection.ts";
import { LABELS } from "../../platform/labels.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { agentAnswers, agentClient, callAgent, CLIENT_OPTIONS } from "../agent-client.ts";
import { boolFlag, stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { cliEngine } from "../load-for-cli.ts";
import { buildStatusView, formatStatus } from "../status-view.ts";
import type { EngineView, StatusView } from "../status-view.ts";

export const statusCommand: CommandSpec = {
  name: "status",
  usage:
    "Usage: berth status [--json] [--agent URL] [--state-dir DIR] [--machine NAME]\n\nAsks the running agent (--agent, " +
    "$BERTH_AGENT_URL, default http://127.0.0.1:9464); when none answers, reads --state-dir and the engine directly.",
  options: { ...CLIENT_OPTIONS, json: { type: "boolean" }, "state-dir": { type: "string" }, machine: { type: "string" } },
  async run(args, io) {
    const client = await agentClient(args, io);
    let view: StatusView;
    if (await agentAnswers(client)) {
      const { status, json } = await callAgent(client, "GET", "/api/v1/status");
      if (status !== 200) {
        io.stderr(`berth status: the agent answered ${status}\n`);
        return 1;
      }
      view = json as StatusView;
    } else {
      const stateDir = stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth";
      const store = await openStatusStore(stateDir);
      const selection = cliEngine(io);
      const engine = createDockerEngine(selection);
      const source = describeEngine(selection);
      const info = await engine.engineInfo().then(
        (i): EngineView => ({ endpoint: selection.endpoint, source, serverVersion: i.serverVersion }),
        (error: unknown): EngineView => ({
          endpoint: selection.endpoint,
          source,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      const containers = info.error ? [] : await engine.listContainers({ label: [`${LABELS.managed}=true`] });
      view = buildStatusView({
        machine: stringFlag(args, "machine") ?? io.env["BERTH_MACHINE"] ?? "-",
        ready: false,
        statuses: store.all(),
        containers,
        engine: info,
      });
      if (!boolFlag(args, "json")) io.stdout(`(no agent at ${client.url}; read from ${stateDir})\n`);
    }
    io.stdout(boolFlag(args, "json") ? `${JSON.stringify(view, null, 2)}\n` : formatStatus(view));
    return 0;
  },
};
