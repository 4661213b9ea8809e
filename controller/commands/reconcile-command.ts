// `berth reconcile`: asks the running agent for a full pass now.
import { agentClient, callAgent, CLIENT_OPTIONS, messageOf } from "../agent-client.ts";
import type { CommandSpec } from "../cli-io.ts";

export const reconcileCommand: CommandSpec = {
  name: "reconcile",
  usage: "Usage: berth reconcile [--agent URL] [--api-token-file FILE]",
  options: { ...CLIENT_OPTIONS },
  async run(args, io) {
    const client = await agentClient(args, io);
    try {
      const { status, json } = await callAgent(client, "POST", "/api/v1/reconcile");
      (status === 202 ? io.stdout : io.stderr)(`${messageOf(json)}\n`);
      return status === 202 ? 0 : 1;
    } catch (error) {
      io.stderr(`berth reconcile: no agent at ${client.url} (${error instanceof Error ? error.message : String(error)})\n`);
      return 1;
    }
  },
};
