// `berth retry STACK/SERVICE`: clears a failed rollout (or a pin) so the next pass tries the
// desired version again (local: acts on the state dir; the agent's API does the same).
import { openStatusStore } from "../../status/status-store.ts";
import { parseServiceRef, retryService } from "../../reconcilers/stacks/manual-actions.ts";
import { CLIENT_OPTIONS, viaAgent } from "../agent-client.ts";
import { stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";

export const retryCommand: CommandSpec = {
  name: "retry",
  usage:
    "Usage: berth retry STACK/SERVICE [--state-dir DIR]\n\nClears the failed (revision, spec hash) or the manual pin; the next " +
    "pass (`berth apply` or the agent) rolls out the desired version again.",
  options: { ...CLIENT_OPTIONS, "state-dir": { type: "string" } },
  async run(args, io) {
    const ref = parseServiceRef(args.positionals[0]);
    if (!ref) {
      io.stderr(`${retryCommand.usage}\n`);
      return 2;
    }
    const viaApi = await viaAgent(args, io, "/api/v1/retry", { target: `${ref.stack}/${ref.service}` });
    if (viaApi !== undefined) return viaApi;
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth");
    const result = await retryService(store, { ...ref, now: Date.now() });
    (result.ok ? io.stdout : io.stderr)(`${result.message}\n`);
    return result.ok ? 0 : 1;
  },
};
