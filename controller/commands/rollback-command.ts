// `berth rollback STACK/SERVICE [--to N]`: pins a service to its N-th previous healthy version
// until the desired state changes or `berth retry` (local: acts on the state dir).
import { openStatusStore } from "../../status/status-store.ts";
import { parseServiceRef, pinServiceRollback } from "../../reconcilers/stacks/manual-actions.ts";
import { stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";

export const rollbackCommand: CommandSpec = {
  name: "rollback",
  summary: "pin a service to an older healthy version (rollback-N) until the desired state changes",
  usage: "Usage: berth rollback STACK/SERVICE [--to N] [--state-dir DIR]\n\nN = 1 (default) is the version before the current one. The next pass swaps to it from its local rollback tag (no registry, no build) and keeps it until the desired state changes or `berth retry`.",
  options: { to: { type: "string" }, "state-dir": { type: "string" } },
  async run(args, io) {
    const ref = parseServiceRef(args.positionals[0]);
    const toText = stringFlag(args, "to") ?? "1";
    const to = Number(toText);
    if (!ref || !Number.isInteger(to) || to < 1) {
      io.stderr(`${rollbackCommand.usage}\n`);
      return 2;
    }
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth");
    const result = await pinServiceRollback(store, { ...ref, to, now: Date.now() });
    (result.ok ? io.stdout : io.stderr)(`${result.message}\n`);
    return result.ok ? 0 : 1;
  },
};
