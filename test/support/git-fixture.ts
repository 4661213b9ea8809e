// Test helpers for real git repositories: a source repo to commit to, SSH and GPG signing keys.
import { mkdtemp, mkdir, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runCommand } from "../../platform/run-command.ts";

const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  LC_ALL: "C",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
};

export type Signing = { format: "ssh"; privateKeyFile: string } | { format: "gpg"; fingerprint: string; gnupgHome: string };

export type SourceRepo = {
  path: string;
  /** Writes (string) or deletes (null) files, commits everything, returns the new commit. */
  commit(files: Record<string, string | null>, message: string, signing?: Signing): Promise<string>;
  /** Moves the branch back to `sha` (the first half of a force-push). */
  resetHard(sha: string): Promise<void>;
  git(args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): Promise<string>;
};

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `berth-${prefix}-`));
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export async function createSourceRepo(path: string, branch = "main"): Promise<SourceRepo> {
  await mkdir(path, { recursive: true });
  async function git(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
    const result = await runCommand("git", ["-C", path, ...args], { env: { ...GIT_ENV, ...env }, input, timeoutMs: 30_000 });
    return result.stdout.trim();
  }
  await git(["init", "-q", "-b", branch]);
  return {
    path,
    git,
    async commit(files, message, signing) {
      for (const [name, content] of Object.entries(files)) {
        const file = join(path, name);
        if (content === null) await rm(file, { force: true });
        else {
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, content);
        }
      }
      await git(["add", "-A"]);
      const sign =
        signing?.format === "ssh"
          ? ["-c", "gpg.format=ssh", "-c", `user.signingkey=${signing.privateKeyFile}`]
          : signing?.format === "gpg"
            ? ["-c", "gpg.format=openpgp", "-c", `user.signingkey=${signing.fingerprint}`]
            : [];
      const env = signing?.format === "gpg" ? { GNUPGHOME: signing.gnupgHome } : {};
      await git([...sign, "commit", "-q", "--allow-empty", ...(signing ? ["-S"] : []), "-m", message], env);
      return git(["rev-parse", "HEAD"]);
    },
    async resetHard(sha) {
      await git(["reset", "-q", "--hard", sha]);
    },
  };
}

/** An ed25519 key pair without a passphrase; `allowedSignersLine` trusts it for `principal`. */
export async function generateSshKey(
  dir: string,
  name: string,
  principal = `${name}@example.com`,
): Promise<{ privateKeyFile: string; allowedSignersLine: string }> {
  const privateKeyFile = join(dir, name);
  await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", privateKeyFile], { timeoutMs: 10_000 });
  const publicKey = (await readFile(`${privateKeyFile}.pub`, "utf8")).trim();
  return { privateKeyFile, allowedSignersLine: `${principal} ${publicKey}` };
}

/** A GPG signing key in its own GNUPGHOME; returns its fingerprint and the armored public key. */
export async function generateGpgKey(gnupgHome: string, uid: string): Promise<{ fingerprint: string; publicKey: string }> {
  const env = { ...process.env, GNUPGHOME: gnupgHome, LC_ALL: "C" };
  await runCommand("gpg", ["--batch", "--quiet", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"], {
    env,
    timeoutMs: 30_000,
  });
  const listing = await runCommand("gpg", ["--batch", "--with-colons", "--list-keys", uid], { env, timeoutMs: 10_000 });
  const fingerprint =
    listing.stdout
      .split("\n")
      .find((line) => line.startsWith("fpr:"))
      ?.split(":")[9] ?? "";
  const exported = await runCommand("gpg", ["--batch", "--armor", "--export", fingerprint], { env, timeoutMs: 10_000 });
  return { fingerprint, publicKey: exported.stdout };
}

/** Stops the gpg-agent a test GNUPGHOME started. */
export async function stopGpgAgent(gnupgHome: string): Promise<void> {
  await runCommand("gpgconf", ["--kill", "all"], {
    env: { ...process.env, GNUPGHOME: gnupgHome },
    allowFailure: true,
    timeoutMs: 5000,
  }).catch(() => undefined);
}
