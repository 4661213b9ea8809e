// E2E helper: an sshd of the test's own on a free loopback port (generated host key, one authorized
// key, no passwords) whose sessions reach a given engine (`SetEnv DOCKER_HOST`), an ssh-agent holding
// the client key, and the client's environment: PATH with an `ssh` that reads the test's own config
// (OpenSSH takes ~ from the passwd entry, never from $HOME) and SSH_AUTH_SOCK (dockerode's ssh2).
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../platform/run-command.ts";
import { freeLoopbackPort } from "./local-registry.ts";

export type SshEngine = {
  /** ssh://USER@127.0.0.1:PORT */
  host: string;
  /** PATH (our `ssh` first) and SSH_AUTH_SOCK: what a user's shell has for this engine. */
  env: { PATH: string; SSH_AUTH_SOCK: string };
  /** Writes the client's known_hosts: the server's real host key, or a key that is not the server's. */
  trust(which: "server" | "other"): Promise<void>;
  stop(): Promise<void>;
};

/** A daemon child: its stderr kept for error messages, stopped with SIGTERM. */
function daemon(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): { child: ChildProcess; log: () => string; stop(): Promise<void> } {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], ...(env ? { env } : {}) });
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => void stderr.push(chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    log: () => stderr.join(""),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

export async function startSshEngine(engineSocket: string, prefix = "ssh"): Promise<SshEngine> {
  // Short path: the agent's socket lives under it.
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const keygen = (file: string, comment: string) =>
    runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", join(dir, file)], { timeoutMs: 30_000 });
  await keygen("host_key", "ssh-host");
  await keygen("other_host_key", "ssh-other-host");
  await keygen("client_key", "ssh-client");
  const user = userInfo().username;
  const port = await freeLoopbackPort();
  await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_key.pub")), { mode: 0o600 });
  await writeFile(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `AllowUsers ${user}`,
      "StrictModes no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      // `docker system dial-stdio` on this side connects to the engine DOCKER_HOST names.
      `SetEnv DOCKER_HOST=${engineSocket}`,
      "",
    ].join("\n"),
  );
  // sshd refuses to start without its privilege separation directory (the package's service creates it).
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const sshd = daemon("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")]);
  const agentSocket = join(dir, "agent.sock");
  const agent = daemon("ssh-agent", ["-D", "-a", agentSocket]);

  const bin = join(dir, "bin");
  await mkdir(bin);
  await writeFile(
    join(dir, "ssh_config"),
    [
      "Host *",
      `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
      "  GlobalKnownHostsFile /dev/null",
      "  StrictHostKeyChecking yes",
      "  BatchMode yes",
      "",
    ].join("\n"),
  );
  await writeFile(join(bin, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -F ${join(dir, "ssh_config")} "$@"\n`, { mode: 0o755 });
  const env = { PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`, SSH_AUTH_SOCK: agentSocket };

  async function trust(which: "server" | "other"): Promise<void> {
    const key = await readFile(join(dir, which === "server" ? "host_key.pub" : "other_host_key.pub"), "utf8");
    await writeFile(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${key.trim().split(" ").slice(0, 2).join(" ")}\n`);
  }

  async function stop(): Promise<void> {
    await sshd.stop();
    await agent.stop();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  try {
    await trust("server");
    const host = `ssh://${user}@127.0.0.1:${port}`;
    let added = false;
    let answered = false;
    for (let i = 0; i < 80 && !(added && answered); i += 1) {
      if (sshd.child.exitCode !== null || agent.child.exitCode !== null) break;
      added ||=
        (await runCommand("ssh-add", ["-q", join(dir, "client_key")], { timeoutMs: 10_000, env, allowFailure: true })).exitCode === 0;
      answered ||=
        added &&
        (await runCommand("ssh", ["-p", String(port), "-l", user, "127.0.0.1", "true"], { timeoutMs: 10_000, env, allowFailure: true }))
          .exitCode === 0;
      if (!(added && answered)) await new Promise((r) => setTimeout(r, 250));
    }
    if (!added || !answered)
      throw new Error(`the test's sshd on 127.0.0.1:${port} did not let the agent's key in:\n${sshd.log()}\n${agent.log()}`);
    return { host, env, trust, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
