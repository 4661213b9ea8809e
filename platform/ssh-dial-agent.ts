// The connection under dockerode for an ssh:// engine: an http.Agent whose every connection is an
// ssh session running `docker system dial-stdio` on the engine's host (what the docker CLI does),
// with the ssh agent's keys and the host key checked against known_hosts. docker-modem's own ssh
// mode builds an invalid request URL (Node's DEP0170 warning on stderr) and accepts any host key.
import { Agent } from "node:http";
import type { Duplex } from "node:stream";
import { createRequire } from "node:module";
import type * as Ssh2 from "ssh2";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import type { SshHostKeyCheck } from "./ssh-host-key.ts";

const require = createRequire(import.meta.url);

/** ssh2, from where docker-modem finds it, on the first ssh connection only (docs/decisions.md: load time). */
function loadSsh2(): typeof Ssh2 {
  return createRequire(require.resolve("docker-modem"))("ssh2") as typeof Ssh2;
}

export function createSshDialAgent(input: {
  endpoint: string;
  host: string;
  port: number;
  username?: string;
  /** SSH_AUTH_SOCK of the selection: the keys berth authenticates with. */
  agentSocket?: string;
  hostKeyCheck: SshHostKeyCheck;
}): Agent {
  const agent = new Agent();
  const config: ConnectConfig = {
    host: input.host,
    port: input.port,
    ...(input.username ? { username: input.username } : {}),
    ...(input.agentSocket ? { agent: input.agentSocket } : {}),
    hostVerifier: input.hostKeyCheck.hostVerifier,
  };
  const createConnection = (_options: unknown, done: (error: Error | null, socket?: Duplex) => void): undefined => {
    const client: Client = new (loadSsh2().Client)();
    let settled = false;
    const fail = (error: unknown): void => {
      client.end();
      if (settled) return;
      settled = true;
      done(input.hostKeyCheck.explain(error));
    };
    client
      .once("ready", () => {
        client.exec("docker system dial-stdio", (error: Error | undefined, stream: ClientChannel) => {
          if (error) return fail(error);
          stream.once("close", () => client.end());
          settled = true;
          done(null, stream);
        });
      })
      .on("error", fail)
      .connect(config);
    return undefined;
  };
  return Object.assign(agent, { createConnection });
}
