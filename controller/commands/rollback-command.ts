// `berth rollback STACK/SERVICE [--to N]`: pins a service to its N-th previous healthy version
// until the desired state changes or `berth retry` (through the running agent, or on the state dir when none runs).
import { openStatusStore } from "../../status/status-store.ts";
import { parseServiceRef, pinServiceRollback } from "../../reconcilers/stacks/manual-actions.ts";
import { CLIENT_OPTIONS, viaAgent } from "../agent-client.ts";
import { stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";

export const rollbackCommand: CommandSpec = {
  name: "rollback",
  usage:
    "Usage: berth rollback STACK/SERVICE [--to N] [--agent URL --api-token-file FILE | --state-dir DIR]\n\nN = 1 (default) is " +
    "the version before the current one. The next pass swaps to it from its local rollback tag (no registry, no build) and " +
    "keeps it until the desired state changes or `berth retry`.",
  options: { ...CLIENT_OPTIONS, to: { type: "string" }, "state-dir": { type: "string" } },
  async run(args, io) {
    const ref = parseServiceRef(args.positionals[0]);
    const toText = stringFlag(args, "to") ?? "1";
    const to = Number(toText);
    if (!ref || !Number.isInteger(to) || to < 1) {
      io.stderr(`${rollbackCommand.usage}\n`);
      return 2;
    }
    const viaApi = await viaAgent(args, io, "/api/v1/rollback", { target: `${ref.stack}/${ref.service}`, to });
    if (viaApi !== undefined) return viaApi;
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth");
    const result = await pinServiceRollback(store, { ...ref, to, now: Date.now() });
    (result.ok ? io.stdout : io.stderr)(`${result.message}\n`);
    return result.ok ? 0 : 1;
  },
};
