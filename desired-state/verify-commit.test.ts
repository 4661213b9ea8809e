// Behaviour of commit signature verification against real git commits, SSH and GPG keys.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSourceRepo, generateGpgKey, generateSshKey, makeTempDir, removeDir, stopGpgAgent } from "../test/support/git-fixture.ts";
import type { SourceRepo } from "../test/support/git-fixture.ts";
import { createCommitVerifier } from "./verify-commit.ts";

describe("createCommitVerifier with SSH allowed signers", { timeout: 30_000 }, () => {
  let dir: string;
  let repo: SourceRepo;
  let allowedSignersFile: string;
  const commits = { trusted: "", stranger: "", unsigned: "", tampered: "" };

  beforeAll(async () => {
    dir = await makeTempDir("verify-ssh");
    const trusted = await generateSshKey(dir, "ops");
    const stranger = await generateSshKey(dir, "stranger");
    allowedSignersFile = join(dir, "allowed_signers");
    await writeFile(allowedSignersFile, `${trusted.allowedSignersLine}\n`);
    repo = await createSourceRepo(join(dir, "src"));
    commits.trusted = await repo.commit({ "a.txt": "a" }, "signed by ops", { format: "ssh", privateKeyFile: trusted.privateKeyFile });
    commits.stranger = await repo.commit({ "b.txt": "b" }, "signed by a stranger", {
      format: "ssh",
      privateKeyFile: stranger.privateKeyFile,
    });
    commits.unsigned = await repo.commit({ "c.txt": "c" }, "not signed");
    // Same signature, different message: what an attacker rewriting a signed commit produces.
    const raw = await repo.git(["cat-file", "commit", commits.trusted]);
    commits.tampered = await repo.git(
      ["hash-object", "-t", "commit", "-w", "--stdin"],
      {},
      `${raw.replace("signed by ops", "signed by ops, honestly")}\n`,
    );
  }, 30_000);

  afterAll(async () => {
    await removeDir(dir);
  });

  it("verifies a commit signed by a trusted key and names the signer", async () => {
    const result = await createCommitVerifier({ format: "ssh", allowedSignersFile }).verify(repo.path, commits.trusted);
    expect(result.verified).toBe(true);
    expect(result.verified && result.signer).toMatch(/^ops@example\.com \(ED25519 SHA256:/);
  });

  it("rejects an unsigned commit as Unsigned", async () => {
    const result = await createCommitVerifier({ format: "ssh", allowedSignersFile }).verify(repo.path, commits.unsigned);
    expect(result).toMatchObject({ verified: false, reason: "Unsigned" });
  });

  it("rejects a commit signed by a key that is not allowed as UnknownKey", async () => {
    const result = await createCommitVerifier({ format: "ssh", allowedSignersFile }).verify(repo.path, commits.stranger);
    expect(result).toMatchObject({ verified: false, reason: "UnknownKey" });
  });

  it("rejects a commit whose content no longer matches its signature as BadSignature", async () => {
    const result = await createCommitVerifier({ format: "ssh", allowedSignersFile }).verify(repo.path, commits.tampered);
    expect(result).toMatchObject({ verified: false, reason: "BadSignature" });
  });

  it("fails closed when the allowed signers file is missing", async () => {
    const result = await createCommitVerifier({ format: "ssh", allowedSignersFile: join(dir, "missing") }).verify(
      repo.path,
      commits.trusted,
    );
    expect(result).toMatchObject({ verified: false, reason: "UnknownKey" });
  });

  it("fails closed when the commit does not exist", async () => {
    const result = await createCommitVerifier({ format: "ssh", allowedSignersFile }).verify(repo.path, "0".repeat(40));
    expect(result.verified).toBe(false);
  });

  it("rejects an SSH-signed commit when only GPG keys are trusted", async () => {
    const result = await createCommitVerifier({ format: "gpg", keyringDir: join(dir, "no-keys") }).verify(repo.path, commits.trusted);
    expect(result).toMatchObject({ verified: false, reason: "UnknownKey" });
  });
});

describe("createCommitVerifier with a GPG key directory", { timeout: 30_000 }, () => {
  let dir: string;
  let repo: SourceRepo;
  let keyringDir: string;
  let signerHome: string;
  let strangerHome: string;
  const commits = { trusted: "", stranger: "", unsigned: "" };

  beforeAll(async () => {
    dir = await makeTempDir("verify-gpg");
    signerHome = join(dir, "gnupg-ops");
    strangerHome = join(dir, "gnupg-stranger");
    await mkdir(signerHome, { mode: 0o700 });
    await mkdir(strangerHome, { mode: 0o700 });
    const ops = await generateGpgKey(signerHome, "Ops <ops@example.com>");
    const stranger = await generateGpgKey(strangerHome, "Stranger <stranger@example.com>");
    keyringDir = join(dir, "trusted-keys");
    await mkdir(keyringDir);
    await writeFile(join(keyringDir, "ops.asc"), ops.publicKey);
    repo = await createSourceRepo(join(dir, "src"));
    commits.trusted = await repo.commit({ "a.txt": "a" }, "signed by ops", {
      format: "gpg",
      fingerprint: ops.fingerprint,
      gnupgHome: signerHome,
    });
    commits.stranger = await repo.commit({ "b.txt": "b" }, "signed by a stranger", {
      format: "gpg",
      fingerprint: stranger.fingerprint,
      gnupgHome: strangerHome,
    });
    commits.unsigned = await repo.commit({ "c.txt": "c" }, "not signed");
  }, 60_000);

  afterAll(async () => {
    await stopGpgAgent(signerHome);
    await stopGpgAgent(strangerHome);
    await removeDir(dir);
  });

  it("verifies a commit signed by an imported key and names the signer", async () => {
    const result = await createCommitVerifier({ format: "gpg", keyringDir }).verify(repo.path, commits.trusted);
    expect(result.verified).toBe(true);
    expect(result.verified && result.signer).toMatch(/^Ops <ops@example\.com> \([0-9A-F]{40}\)$/);
  });

  it("rejects a commit signed by a key that is not in the directory as UnknownKey", async () => {
    const result = await createCommitVerifier({ format: "gpg", keyringDir }).verify(repo.path, commits.stranger);
    expect(result).toMatchObject({ verified: false, reason: "UnknownKey" });
  });

  it("rejects an unsigned commit as Unsigned", async () => {
    const result = await createCommitVerifier({ format: "gpg", keyringDir }).verify(repo.path, commits.unsigned);
    expect(result).toMatchObject({ verified: false, reason: "Unsigned" });
  });

  it("fails closed when the key directory is empty", async () => {
    const empty = join(dir, "empty");
    await mkdir(empty);
    const result = await createCommitVerifier({ format: "gpg", keyringDir: empty }).verify(repo.path, commits.trusted);
    expect(result).toMatchObject({ verified: false, reason: "UnknownKey" });
  });
});
