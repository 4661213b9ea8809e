// Commit signature verification for --verify-commits: SSH allowed-signers or a GPG keyring; fails closed.
import { mkdtemp, readdir, rm, access, constants } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envWithoutBerth } from "../platform/child-env.ts";
import { runCommand } from "../platform/run-command.ts";
import { createGitRunner } from "./git-runner.ts";
import type { GitRunner } from "./git-runner.ts";

export type CommitVerification =
  { verified: true; signer: string } | { verified: false; reason: "Unsigned" | "UnknownKey" | "BadSignature"; message: string };

/** Who berth trusts: an SSH allowed-signers file, or a directory of exported GPG public keys. */
export type TrustRoot = { format: "ssh"; allowedSignersFile: string } | { format: "gpg"; keyringDir: string };

export type CommitVerifier = { verify(gitDir: string, sha: string): Promise<CommitVerification> };

type SignatureKind = "ssh" | "gpg" | "x509" | "unknown";

const VERIFY_TIMEOUT_MS = 30_000;

/**
 * Verifies the signature of one commit against `trust`. The trust root is re-read on every call, so
 * editing the allowed-signers file or the key directory takes effect without a restart.
 */
export function createCommitVerifier(trust: TrustRoot, options: { git?: GitRunner } = {}): CommitVerifier {
  const git = options.git ?? createGitRunner();
  return {
    async verify(gitDir, sha) {
      try {
        const kind = await signatureKind(git, gitDir, sha);
        if (kind === undefined) return { verified: false, reason: "Unsigned", message: `commit ${sha} is not signed` };
        if (kind !== trust.format) {
          return {
            verified: false,
            reason: "UnknownKey",
            message: `commit ${sha} carries a ${kind} signature, but only ${trust.format} signers are trusted`,
          };
        }
        return trust.format === "ssh"
          ? await verifySsh(git, gitDir, sha, trust.allowedSignersFile)
          : await verifyGpg(git, gitDir, sha, trust.keyringDir);
      } catch (error) {
        // Fail closed: anything we did not expect is a rejection, never a pass.
        return { verified: false, reason: "BadSignature", message: `could not verify commit ${sha}: ${errorMessage(error)}` };
      }
    },
  };
}

/** The kind of the commit's `gpgsig` header, or undefined for an unsigned commit. */
async function signatureKind(git: GitRunner, gitDir: string, sha: string): Promise<SignatureKind | undefined> {
  const { stdout } = await git.run(["-C", gitDir, "cat-file", "commit", sha], { timeoutMs: VERIFY_TIMEOUT_MS });
  const headerEnd = stdout.indexOf("\n\n");
  const headers = (headerEnd === -1 ? stdout : stdout.slice(0, headerEnd)).split("\n");
  const line = headers.find((header) => header.startsWith("gpgsig ") || header.startsWith("gpgsig-sha256 "));
  if (line === undefined) return undefined;
  if (line.includes("BEGIN SSH SIGNATURE")) return "ssh";
  if (line.includes("BEGIN PGP SIGNATURE")) return "gpg";
  if (line.includes("BEGIN SIGNED MESSAGE")) return "x509";
  return "unknown";
}

async function verifySsh(git: GitRunner, gitDir: string, sha: string, allowedSignersFile: string): Promise<CommitVerification> {
  try {
    await access(allowedSignersFile, constants.R_OK);
  } catch {
    return {
      verified: false,
      reason: "UnknownKey",
      message: `the allowed signers file ${allowedSignersFile} cannot be read, so no signer is trusted`,
    };
  }
  const result = await git.run(
    [
      "-C",
      gitDir,
      "-c",
      "gpg.format=ssh",
      "-c",
      "gpg.ssh.program=ssh-keygen",
      "-c",
      `gpg.ssh.allowedSignersFile=${allowedSignersFile}`,
      "verify-commit",
      sha,
    ],
    { allowFailure: true, timeoutMs: VERIFY_TIMEOUT_MS },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  const good = /Good "git" signature for (.+) with (\S+) key (\S+)/.exec(output);
  if (result.exitCode === 0 && good) return { verified: true, signer: `${good[1]} (${good[2]} ${good[3]})` };
  const message = summarize(output);
  if (/No principal matched/i.test(output))
    return {
      verified: false,
      reason: "UnknownKey",
      message: `commit ${sha} is signed by a key not in the allowed signers file: ${message}`,
    };
  return { verified: false, reason: "BadSignature", message: `commit ${sha} has a signature that does not verify: ${message}` };
}

async function verifyGpg(git: GitRunner, gitDir: string, sha: string, keyringDir: string): Promise<CommitVerification> {
  const home = await mkdtemp(join(tmpdir(), "berth-gnupg-"));
  const env = { GNUPGHOME: home };
  try {
    const imported = await importKeys(home, keyringDir);
    if (imported === 0)
      return {
        verified: false,
        reason: "UnknownKey",
        message: `no public keys could be imported from ${keyringDir}, so no signer is trusted`,
      };
    const result = await git.run(["-C", gitDir, "-c", "gpg.format=openpgp", "-c", "gpg.program=gpg", "verify-commit", "--raw", sha], {
      allowFailure: true,
      env,
      timeoutMs: VERIFY_TIMEOUT_MS,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    const statuses = gpgStatuses(output);
    const status = (keyword: string): string | undefined => statuses.get(keyword);
    const goodsig = status("GOODSIG");
    const validsig = status("VALIDSIG");
    if (result.exitCode === 0 && goodsig !== undefined && validsig !== undefined) {
      const [, ...uid] = goodsig.split(" ");
      const fingerprint = validsig.split(" ")[0] ?? "";
      return { verified: true, signer: `${uid.join(" ")} (${fingerprint})` };
    }
    const message =
      summarize(
        output
          .split("\n")
          .filter((line) => !line.startsWith("[GNUPG:]"))
          .join("\n"),
      ) || summarize(output);
    if (status("NO_PUBKEY") !== undefined || status("ERRSIG") !== undefined) {
      return { verified: false, reason: "UnknownKey", message: `commit ${sha} is signed by a key not in ${keyringDir}: ${message}` };
    }
    for (const keyword of ["EXPKEYSIG", "REVKEYSIG", "EXPSIG"]) {
      if (status(keyword) !== undefined)
        return { verified: false, reason: "BadSignature", message: `commit ${sha} is signed by an expired or revoked key: ${message}` };
    }
    return { verified: false, reason: "BadSignature", message: `commit ${sha} has a signature that does not verify: ${message}` };
  } finally {
    await runCommand("gpgconf", ["--kill", "all"], { env: { ...envWithoutBerth(), ...env }, allowFailure: true, timeoutMs: 5000 }).catch(
      () => undefined,
    );
    await rm(home, { recursive: true, force: true });
  }
}

/** Imports every regular, non-hidden file of `keyringDir` into the temporary GNUPGHOME. */
async function importKeys(home: string, keyringDir: string): Promise<number> {
  let names: string[];
  try {
    const entries = await readdir(keyringDir, { withFileTypes: true });
    names = entries.filter((entry) => entry.isFile() && !entry.name.startsWith(".")).map((entry) => join(keyringDir, entry.name));
  } catch {
    return 0;
  }
  if (names.length === 0) return 0;
  const result = await runCommand("gpg", ["--batch", "--no-autostart", "--status-fd", "1", "--import", ...names], {
    env: { ...envWithoutBerth(), GNUPGHOME: home, LC_ALL: "C" },
    allowFailure: true,
    timeoutMs: VERIFY_TIMEOUT_MS,
  });
  return result.stdout.split("\n").filter((line) => line.startsWith("[GNUPG:] IMPORT_OK")).length;
}

/** `[GNUPG:] KEYWORD rest` status lines (gpg's machine interface), first occurrence of each keyword. */
function gpgStatuses(output: string): Map<string, string> {
  const statuses = new Map<string, string>();
  for (const line of output.split("\n")) {
    const match = /^\[GNUPG:\] (\S+) ?(.*)$/.exec(line.trim());
    if (match?.[1] && !statuses.has(match[1])) statuses.set(match[1], match[2] ?? "");
  }
  return statuses;
}

function summarize(output: string): string {
  return output
    .trim()
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-4)
    .join("; ");
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
