// Container operations the Engine wrapper does not offer yet (start, network attach/detach),
// through the docker CLI; start-first swaps use them to keep a new container out of DNS until healthy.
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { runCommand } from "../../platform/run-command.ts";

export type NetworkAttachment = { network: string; aliases: string[] };

export type ContainerOps = {
  start(id: string): Promise<void>;
  networks(id: string): Promise<NetworkAttachment[]>;
  connect(id: string, attachment: NetworkAttachment): Promise<void>;
  disconnect(id: string, network: string): Promise<void>;
};

/** `env`: the engine selection's `childEnv`, the whole environment of every docker call. */
export function createContainerOps(
  options: { docker?: string; timeoutMs?: number; env?: Readonly<Record<string, string>> } = {},
): ContainerOps {
  const docker = options.docker ?? "docker";
  const env = options.env ?? processEngineSelection().childEnv;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    async start(id) {
      await runCommand(docker, ["start", id], { timeoutMs, env });
    },
    async networks(id) {
      const result = await runCommand(docker, ["inspect", "--format", "{{json .NetworkSettings.Networks}}", id], { timeoutMs, env });
      const parsed = JSON.parse(result.stdout || "{}") as Record<string, { Aliases?: string[] | null }> | null;
      return Object.entries(parsed ?? {}).map(([network, v]) => ({ network, aliases: v.Aliases ?? [] }));
    },
    async connect(id, attachment) {
      const result = await runCommand(
        docker,
        ["network", "connect", ...attachment.aliases.flatMap((a) => ["--alias", a]), attachment.network, id],
        { timeoutMs, env, allowFailure: true },
      );
      if (result.exitCode !== 0 && !/already exists/i.test(result.stderr))
        throw new Error(`network connect ${attachment.network}: ${result.stderr.trim()}`);
    },
    async disconnect(id, network) {
      const result = await runCommand(docker, ["network", "disconnect", "--force", network, id], { timeoutMs, env, allowFailure: true });
      if (result.exitCode !== 0 && !/is not connected|not found|No such/i.test(result.stderr))
        throw new Error(`network disconnect ${network}: ${result.stderr.trim()}`);
    },
  };
}
