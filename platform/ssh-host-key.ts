// The host-key check of dockerode's ssh transport. ssh2 accepts any host key unless given a
// verifier; berth checks the key against the known_hosts files OpenSSH would use for the engine's
// host (`ssh -G` in the selection's environment, so the user's ssh config applies as it does for
// the docker CLI, compose and buildx children), and honours its StrictHostKeyChecking.
import { runCommand } from "./run-command.ts";

type SshAddress = { host: string; port?: number; username?: string };

export type SshHostKeyCheck = {
  /** ssh2's `hostVerifier` (asynchronous form): `key` is the raw public key blob the server presented. */
  hostVerifier(key: Buffer, verify: (accepted: boolean) => void): void;
  /** ssh2 says only "Host denied (verification failed)": this error names the engine, the host and the files, when we refused. */
  explain(error: unknown): Error;
};

export type KnownHostsEntry = { marker?: "revoked" | "cert-authority"; keyType: string; key: string };

/** The entries of `ssh-keygen -F` output (comment lines skipped); markers kept, so a revoked key is never accepted. */
export function parseKnownHostsLines(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith("#")) continue;
    const marker = fields[0] === "@revoked" ? "revoked" : fields[0] === "@cert-authority" ? "cert-authority" : undefined;
    const [, keyType, key] = marker ? fields.slice(1) : fields;
    if (keyType && key) entries.push({ ...(marker ? { marker } : {}), keyType, key });
  }
  return entries;
}

/**
 * The verdict for a presented key: undefined when accepted, else why not. `strict` is `ssh -G`'s
 * stricthostkeychecking: "false" accepts anything (as OpenSSH does), "accept-new" also accepts a
 * host that has no entry yet (berth does not write known_hosts), anything else needs a listed key.
 */
export function judgeHostKey(input: {
  presented: string;
  entries: KnownHostsEntry[];
  strict: string;
  name: string;
  files: string[];
}): string | undefined {
  const { presented, entries, strict, name, files } = input;
  if (entries.some((e) => e.marker === "revoked" && e.key === presented))
    return `the host key of ${name} is marked @revoked in ${files.join(", ")}`;
  if (strict === "false") return undefined;
  const plain = entries.filter((e) => !e.marker);
  if (plain.some((e) => e.key === presented)) return undefined;
  if (plain.length > 0)
    return (
      `the host key of ${name} does not match the one in ${files.join(", ")} (a changed key or someone in between); ` +
      `berth does not connect`
    );
  if (strict === "accept-new") return undefined;
  return (
    `the host key of ${name} is not in ${files.join(", ")}; add it (\`ssh-keyscan\` checked against the host, ` +
    `or connect once with \`ssh\`) and berth verifies it as ssh does`
  );
}

/** `ssh -G` output as a map of lower-case option names to values. */
function parseSshConfig(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) options.set(line.slice(0, space).toLowerCase(), line.slice(space + 1).trim());
  }
  return options;
}

export function createSshHostKeyCheck(endpoint: string, address: SshAddress, env: Readonly<Record<string, string>>): SshHostKeyCheck {
  const verdicts = new Map<string, Promise<string | undefined>>();
  let refusal: string | undefined;

  async function judge(presented: string): Promise<string | undefined> {
    const args = ["-G", ...(address.port ? ["-p", String(address.port)] : []), ...(address.username ? ["-l", address.username] : [])];
    const config = parseSshConfig((await runCommand("ssh", [...args, "--", address.host], { env: { ...env }, timeoutMs: 10_000 })).stdout);
    const port = Number(config.get("port") ?? address.port ?? 22);
    const name = config.get("hostkeyalias") ?? (port === 22 ? address.host : `[${address.host}]:${port}`);
    const files = [config.get("userknownhostsfile"), config.get("globalknownhostsfile")]
      .flatMap((value) => (value ?? "").split(/\s+/))
      .filter((file) => file && file !== "none");
    const entries: KnownHostsEntry[] = [];
    for (const file of files) {
      const found = await runCommand("ssh-keygen", ["-F", name, "-f", file], { env: { ...env }, timeoutMs: 10_000, allowFailure: true });
      entries.push(...parseKnownHostsLines(found.stdout));
    }
    return judgeHostKey({ presented, entries, strict: config.get("stricthostkeychecking") ?? "ask", name, files });
  }

  return {
    hostVerifier(key, verify) {
      const presented = key.toString("base64");
      let verdict = verdicts.get(presented);
      if (!verdict) {
        // A check that could not run is not remembered: the next connection tries again.
        verdict = judge(presented).catch((error: unknown) => {
          verdicts.delete(presented);
          return `cannot check the host key: ${error instanceof Error ? error.message : String(error)}`;
        });
        verdicts.set(presented, verdict);
      }
      void verdict.then((reason) => {
        if (reason) refusal = reason;
        verify(reason === undefined);
      });
    },
    explain(error) {
      const plain = error instanceof Error ? error : new Error(String(error));
      if (!refusal || !/verification failed/i.test(plain.message)) return plain;
      return new Error(`${endpoint}: ${refusal}`, { cause: error });
    },
  };
}
