// Behaviour of git sync against real git repositories: publish, force-push, unreachable remote, verification.
import { chmod, mkdir, readFile, readdir, readlink, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../platform/logger.ts";
import type { Logger } from "../platform/logger.ts";
import { createSourceRepo, generateSshKey, makeTempDir, removeDir } from "../test/support/git-fixture.ts";
import type { SourceRepo } from "../test/support/git-fixture.ts";
import { createGitRunner } from "./git-runner.ts";
import type { GitRunner } from "./git-runner.ts";
import { createGitSync, redactUrl, revisionFromPath } from "./git-sync.ts";
import { createCommitVerifier } from "./verify-commit.ts";

function captureLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: createLogger({ level: "debug", destination }),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("createGitSync", { timeout: 30_000 }, () => {
  let root: string;
  let source: SourceRepo;
  let syncDir: string;

  beforeEach(async () => {
    root = await makeTempDir("git-sync");
    source = await createSourceRepo(join(root, "source"));
    syncDir = join(root, "sync");
  });

  afterEach(async () => {
    await removeDir(root);
  });

  it("publishes the branch tip as its own tree behind the current symlink", async () => {
    const first = await source.commit({ "stacks/web/compose.yaml": "services: {}\n" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger });

    const result = await gitSync.sync();

    expect(result).toEqual({ ok: true, revision: first, changed: true });
    expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${first}`);
    expect(await readFile(join(syncDir, "current", "stacks/web/compose.yaml"), "utf8")).toBe("services: {}\n");
    expect(await readdir(join(syncDir, "current"))).toEqual(["stacks"]);
    expect(await gitSync.publishedRevision()).toBe(first);
    expect(revisionFromPath(await realpath(gitSync.currentPath))).toBe(first);
    expect(gitSync.intervalSeconds).toBe(60);
  });

  it("reports no change when the branch did not move", async () => {
    const first = await source.commit({ "a.txt": "a" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger });
    await gitSync.sync();

    const result = await gitSync.sync();

    expect(result).toEqual({ ok: true, revision: first, changed: false });
  });

  it("publishes a new commit, keeps the previous tree and deletes older ones", async () => {
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger });
    const first = await source.commit({ "a.txt": "1" }, "first");
    await gitSync.sync();
    const second = await source.commit({ "a.txt": "2" }, "second");
    await gitSync.sync();
    const third = await source.commit({ "a.txt": "3", "b.txt": "b" }, "third");

    const result = await gitSync.sync();

    expect(result).toEqual({ ok: true, revision: third, changed: true });
    expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${third}`);
    expect(await readlink(join(syncDir, "previous"))).toBe(`worktrees/${second}`);
    expect((await readdir(join(syncDir, "worktrees"))).sort()).toEqual([second, third].sort());
    expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("3");
    expect(first).not.toBe(second);
  });

  it("publishes the new tip after a force-push and logs it as one", async () => {
    const { logger, lines } = captureLogger();
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger });
    const base = await source.commit({ "a.txt": "base" }, "base");
    const abandoned = await source.commit({ "a.txt": "abandoned" }, "abandoned");
    await gitSync.sync();
    await source.resetHard(base);
    const rewritten = await source.commit({ "a.txt": "rewritten" }, "rewritten");

    const result = await gitSync.sync();

    expect(result).toEqual({ ok: true, revision: rewritten, changed: true });
    expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("rewritten");
    expect(lines().find((line) => line["msg"] === "branch was force-pushed; publishing the new tip")).toMatchObject({
      from: abandoned,
      to: rewritten,
    });
  });

  it("does not log a fast-forward as a force-push", async () => {
    const { logger, lines } = captureLogger();
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger });
    await source.commit({ "a.txt": "1" }, "first");
    await gitSync.sync();
    await source.commit({ "a.txt": "2" }, "second");

    await gitSync.sync();

    expect(lines().some((line) => line["msg"] === "branch was force-pushed; publishing the new tip")).toBe(false);
  });

  it("keeps the last good commit when the remote is unreachable", async () => {
    const first = await source.commit({ "a.txt": "good" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger });
    await gitSync.sync();
    await rename(source.path, join(root, "moved-away"));

    const result = await gitSync.sync();

    expect(result).toMatchObject({ ok: false, reason: "FetchFailed", revision: first });
    expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${first}`);
    expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("good");
  });

  it("reports FetchFailed and publishes nothing when the first fetch fails", async () => {
    const gitSync = createGitSync({ url: join(root, "does-not-exist"), branch: "main", dir: syncDir, logger: captureLogger().logger });

    const result = await gitSync.sync();

    expect(result).toMatchObject({ ok: false, reason: "FetchFailed" });
    expect(result.ok === false && result.revision).toBeUndefined();
    expect(await gitSync.publishedRevision()).toBeUndefined();
  });

  it("reports FetchFailed when the branch does not exist on the remote", async () => {
    await source.commit({ "a.txt": "a" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "release", dir: syncDir, logger: captureLogger().logger });

    expect(await gitSync.sync()).toMatchObject({ ok: false, reason: "FetchFailed" });
  });

  it("never puts a password from the URL in results or logs", async () => {
    const { logger, lines } = captureLogger();
    const gitSync = createGitSync({
      url: "http://deploy:s3cr3t-token@127.0.0.1:9/repo.git",
      branch: "main",
      dir: syncDir,
      logger,
      fetchTimeoutMs: 10_000,
    });

    const result = await gitSync.sync();

    expect(result).toMatchObject({ ok: false, reason: "FetchFailed" });
    expect(JSON.stringify(result)).not.toContain("s3cr3t-token");
    expect(JSON.stringify(lines())).not.toContain("s3cr3t-token");
    expect(redactUrl("https://deploy:tok@example.com/r.git")).toBe("https://deploy:***@example.com/r.git");
  });

  it("keeps the published commit and leaves no partial tree when a checkout fails", async () => {
    const first = await source.commit({ "a.txt": "1" }, "first");
    const real = createGitRunner();
    let failCheckout = false;
    const git: GitRunner = {
      run(args, options) {
        if (failCheckout && args.includes("read-tree")) return Promise.reject(new Error("disk full"));
        return real.run(args, options);
      },
    };
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger, git });
    await gitSync.sync();
    await source.commit({ "a.txt": "2" }, "second");
    failCheckout = true;

    const result = await gitSync.sync();

    expect(result).toMatchObject({ ok: false, reason: "CheckoutFailed", revision: first });
    expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${first}`);
    expect(await readdir(join(syncDir, "worktrees"))).toEqual([first]);
  });

  it("restores the published tree when it was deleted from disk", async () => {
    const first = await source.commit({ "a.txt": "1" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger });
    await gitSync.sync();
    await rm(join(syncDir, "worktrees", first), { recursive: true });

    const result = await gitSync.sync();

    expect(result).toEqual({ ok: true, revision: first, changed: false });
    expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("1");
  });

  it("recreates a corrupted mirror", async () => {
    const first = await source.commit({ "a.txt": "1" }, "first");
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger });
    await gitSync.sync();
    await rm(join(syncDir, "repo.git", "HEAD"));
    await writeFile(join(syncDir, "repo.git", "config"), "not a git config");

    expect(await gitSync.sync()).toEqual({ ok: true, revision: first, changed: false });
  });

  it("runs overlapping calls one after another, never at the same time", async () => {
    const first = await source.commit({ "a.txt": "1" }, "first");
    const real = createGitRunner();
    let active = 0;
    let maxActive = 0;
    const git: GitRunner = {
      async run(args, options) {
        active += 1;
        maxActive = Math.max(maxActive, active);
        try {
          return await real.run(args, options);
        } finally {
          active -= 1;
        }
      },
    };
    const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger, git });

    const results = await Promise.all([gitSync.sync(), gitSync.sync(), gitSync.sync(), gitSync.sync()]);

    expect(results.map((result) => result.ok && result.revision)).toEqual([first, first, first, first]);
    expect(results.filter((result) => result.ok && result.changed)).toHaveLength(1);
    expect(maxActive).toBe(1);
  });

  describe("with commit verification", () => {
    it("publishes only commits signed by a trusted key and stays on the last verified one", async () => {
      const trusted = await generateSshKey(root, "ops");
      const stranger = await generateSshKey(root, "stranger");
      const allowedSignersFile = join(root, "allowed_signers");
      await writeFile(allowedSignersFile, `${trusted.allowedSignersLine}\n`);
      const { logger, lines } = captureLogger();
      const gitSync = createGitSync({
        url: source.path,
        branch: "main",
        dir: syncDir,
        logger,
        verify: createCommitVerifier({ format: "ssh", allowedSignersFile }),
      });
      const signed = await source.commit({ "a.txt": "signed" }, "signed", { format: "ssh", privateKeyFile: trusted.privateKeyFile });
      const published = await gitSync.sync();

      await source.commit({ "a.txt": "unsigned" }, "unsigned");
      const unsigned = await gitSync.sync();
      await source.commit({ "a.txt": "stranger" }, "stranger", { format: "ssh", privateKeyFile: stranger.privateKeyFile });
      const unknown = await gitSync.sync();

      expect(published).toEqual({ ok: true, revision: signed, changed: true });
      expect(unsigned).toMatchObject({ ok: false, reason: "VerificationFailed", revision: signed });
      expect(unknown).toMatchObject({ ok: false, reason: "VerificationFailed", revision: signed });
      expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${signed}`);
      expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("signed");
      expect(lines().find((line) => line["msg"] === "commit signature verified")).toMatchObject({
        revision: signed,
        signer: expect.stringContaining("ops@example.com"),
      });

      const fixed = await source.commit({ "a.txt": "fixed" }, "fixed", { format: "ssh", privateKeyFile: trusted.privateKeyFile });
      expect(await gitSync.sync()).toEqual({ ok: true, revision: fixed, changed: true });
    });

    it("does not publish an unsigned first commit", async () => {
      const allowedSignersFile = join(root, "allowed_signers");
      await writeFile(allowedSignersFile, "");
      await source.commit({ "a.txt": "a" }, "unsigned");
      const gitSync = createGitSync({
        url: source.path,
        branch: "main",
        dir: syncDir,
        logger: captureLogger().logger,
        verify: createCommitVerifier({ format: "ssh", allowedSignersFile }),
      });

      const result = await gitSync.sync();

      expect(result).toMatchObject({ ok: false, reason: "VerificationFailed" });
      expect(await gitSync.publishedRevision()).toBeUndefined();
    });
  });

  describe("hardened against the host's git configuration and the commit's attributes", () => {
    it("does not run a filter driver from the host's global git config that a commit's .gitattributes names", async () => {
      const marker = join(root, "filter-ran");
      const home = join(root, "home");
      await source.commit({ ".gitattributes": "*.txt filter=evil\n", "a.txt": "a\n" }, "names a filter");
      await mkdir(home);
      await writeFile(join(home, ".gitconfig"), `[filter "evil"]\n\tsmudge = touch ${marker} && cat\n\trequired = true\n`);
      const saved = { HOME: process.env["HOME"], GIT_CONFIG_GLOBAL: process.env["GIT_CONFIG_GLOBAL"] };
      process.env["HOME"] = home;
      delete process.env["GIT_CONFIG_GLOBAL"];
      let result;
      try {
        result = await createGitSync({ url: source.path, branch: "main", dir: syncDir, logger: captureLogger().logger }).sync();
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }

      expect(result).toMatchObject({ ok: true, changed: true });
      expect(
        await stat(marker).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
      expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("a\n");
    });

    it("checks out with filters, ident and encodings off even when git's own config defines the filter", async () => {
      const marker = join(root, "filter-ran");
      await source.commit({ ".gitattributes": "*.txt filter=evil ident\n", "a.txt": "$Id$\n" }, "names a filter");
      const real = createGitRunner();
      const withFilter: GitRunner = {
        run: (args, options = {}) =>
          real.run(args, { ...options, config: { ...options.config, "filter.evil.smudge": `touch ${marker} && cat` } }),
      };

      const result = await createGitSync({
        url: source.path,
        branch: "main",
        dir: syncDir,
        logger: captureLogger().logger,
        git: withFilter,
      }).sync();

      expect(result).toMatchObject({ ok: true });
      expect(
        await stat(marker).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
      expect(await readFile(join(syncDir, "current", "a.txt"), "utf8")).toBe("$Id$\n");
    });

    it("sends URL credentials as a header from the environment: never in git's argv, never to children as BERTH_*", async () => {
      const seen: string[] = [];
      const server = createServer((req, res) => {
        seen.push(req.headers.authorization ?? "");
        res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      const log = join(root, "git-calls.log");
      const wrapper = join(root, "git-wrapper.sh");
      await writeFile(
        wrapper,
        `#!/bin/sh\nprintf '%s\\n' "ARGV $*" >> ${log}\nenv | grep '^BERTH_' | sed 's/^/ENV /' >> ${log}\nexec git "$@"\n`,
      );
      await chmod(wrapper, 0o755);
      process.env["BERTH_REPO"] = `http://deploy:s3cr3t-token@127.0.0.1:${port}/repo.git`;
      try {
        const gitSync = createGitSync({
          url: process.env["BERTH_REPO"],
          branch: "main",
          dir: syncDir,
          logger: captureLogger().logger,
          git: createGitRunner({ program: wrapper }),
          fetchTimeoutMs: 20_000,
        });

        const result = await gitSync.sync();

        expect(result).toMatchObject({ ok: false, reason: "FetchFailed" });
        const calls = await readFile(log, "utf8");
        expect(calls).toContain(`ARGV -C ${join(syncDir, "repo.git")}`);
        expect(calls).toContain(`http://127.0.0.1:${port}/repo.git`);
        expect(calls).not.toContain("s3cr3t-token");
        expect(calls).not.toContain("ENV BERTH_");
        expect(seen).toContain(`Basic ${Buffer.from("deploy:s3cr3t-token").toString("base64")}`);
      } finally {
        delete process.env["BERTH_REPO"];
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe("replay protection", () => {
    async function signedSetup() {
      const trusted = await generateSshKey(root, "ops");
      const allowedSignersFile = join(root, "allowed_signers");
      await writeFile(allowedSignersFile, `${trusted.allowedSignersLine}\n`);
      const signing = { format: "ssh" as const, privateKeyFile: trusted.privateKeyFile };
      return { signing, verify: createCommitVerifier({ format: "ssh", allowedSignersFile }) };
    }

    it("with --no-rollback refuses a force-push back to an older signed commit and stays on the applied one", async () => {
      const { signing, verify } = await signedSetup();
      const { logger, lines } = captureLogger();
      const gitSync = createGitSync({ url: source.path, branch: "main", dir: syncDir, logger, verify, noRollback: true });
      const old = await source.commit({ "a.txt": "vulnerable" }, "old", signing);
      await gitSync.sync();
      const fixed = await source.commit({ "a.txt": "fixed" }, "fixed", signing);
      expect(await gitSync.sync()).toEqual({ ok: true, revision: fixed, changed: true });

      await source.resetHard(old);
      const replayed = await gitSync.sync();

      expect(replayed).toEqual({
        ok: false,
        reason: "NotDescendant",
        revision: fixed,
        message: expect.stringContaining(
          `new tip ${old.slice(0, 12)} does not descend from the last applied commit ${fixed.slice(0, 12)} (--no-rollback)`,
        ),
      });
      expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${fixed}`);
      expect(
        lines().some((line) => line["msg"] === "branch moved to a commit that does not descend from the applied one; not publishing it"),
      ).toBe(true);
      // Building on the replayed commit does not help; building on the applied one does.
      await source.commit({ "a.txt": "next" }, "next", signing);
      expect(await gitSync.sync()).toMatchObject({ ok: false, reason: "NotDescendant" });
      await source.resetHard(fixed);
      const onward = await source.commit({ "a.txt": "onward" }, "onward", signing);
      expect(await gitSync.sync()).toEqual({ ok: true, revision: onward, changed: true });
    });

    it("with --verify-range refuses a signed tip on top of an unsigned commit", async () => {
      const { signing, verify } = await signedSetup();
      const gitSync = createGitSync({
        url: source.path,
        branch: "main",
        dir: syncDir,
        logger: captureLogger().logger,
        verify,
        verifyRange: true,
      });
      const first = await source.commit({ "a.txt": "1" }, "first", signing);
      await gitSync.sync();
      const sneaked = await source.commit({ "a.txt": "sneaked" }, "unsigned in the middle");
      await source.commit({ "a.txt": "2" }, "signed tip", signing);

      const result = await gitSync.sync();

      expect(result).toMatchObject({
        ok: false,
        reason: "VerificationFailed",
        revision: first,
        message: `commit ${sneaked} is not signed`,
      });
      expect(await readlink(join(syncDir, "current"))).toBe(`worktrees/${first}`);
    });
  });

  it("refuses a branch name that could inject a refspec or an option", () => {
    const logger = captureLogger().logger;
    expect(() => createGitSync({ url: source.path, branch: "main:refs/heads/x", dir: syncDir, logger })).toThrow(/invalid branch/);
    expect(() => createGitSync({ url: source.path, branch: "--upload-pack=x", dir: syncDir, logger })).toThrow(/invalid branch/);
    expect(() => createGitSync({ url: "--upload-pack=touch /tmp/x", branch: "main", dir: syncDir, logger })).toThrow(/invalid git URL/);
  });
});
