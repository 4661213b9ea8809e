// `berth agent`: runs the reconciling agent until SIGTERM (or one pass with --once).
import { startAgent } from "../agent.ts";
import { AGENT_OPTIONS, agentConfig, envName } from "../agent-config.ts";
import type { CommandSpec } from "../cli-io.ts";
import { selectEngine } from "../../platform/engine-selection.ts";

export const agentCommand: CommandSpec = {
  name: "agent",
  usage: [
    "Usage: berth agent (--desired-state DIR | --repo URL [--branch main]) [options]",
    "",
    "  --desired-state DIR      a directory kept in sync by something else (may be a symlink, e.g. git-sync's)",
    "  --repo URL               berth clones and fetches it itself (--fetch-interval seconds, default 60)",
    "  --machine NAME           this host's machine (default: hostname match in berth.yaml)",
    "  --state-dir DIR          status, intents, rollback history (default /var/lib/berth)",
    "  --listen HOST:PORT       metrics, health and API (default 127.0.0.1:9464)",
    "  --api-token-file FILE    enables POST /api/v1/{reconcile,rollback,retry} with this bearer token",
    "  --webhook-secret-file F  enables POST /hooks/git (GitHub X-Hub-Signature-256)",
    "  --verify-commits ssh|gpg with --allowed-signers FILE or --gpg-keyring DIR: apply signed commits only",
    "  --verify-range           verify every new commit since the applied one, not only the tip",
    "  --no-rollback            refuse a new tip that does not descend from the applied commit (replay)",
    "  --listen-insecure        allow a non-loopback --listen (prefer a TLS proxy in front of 127.0.0.1)",
    "  --protect-status         GET /api/v1/status needs the --api-token-file bearer token too",
    "  --stack-concurrency N    stacks reconciled at once (default 4)",
    "  --policy FILE            host policy (default /etc/berth/policy.yaml when it exists, else level baseline)",
    "  --log-level LEVEL        trace|debug|info|warn|error (default info)",
    "  --once                   one pass, then exit 0 when everything is Ready (same as berth apply)",
    "",
    `Every flag can also come from the environment: ${envName("state-dir")}, ${envName("repo")}, …`,
  ].join("\n"),
  options: { ...AGENT_OPTIONS },
  async run(args, io) {
    const parsed = agentConfig(args, io.env);
    if (!parsed.ok) {
      io.stderr(`berth agent: ${parsed.message}\n\n${agentCommand.usage}\n`);
      return 2;
    }
    let agent: Awaited<ReturnType<typeof startAgent>>;
    try {
      agent = await startAgent(parsed.config, { selection: selectEngine(io.env) });
    } catch (error) {
      io.stderr(`berth agent: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    const onSignal = () => void agent.stop();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    const code = await agent.done;
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    return code;
  },
};
