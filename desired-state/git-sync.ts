// Syncs a git branch into `dir` and publishes each commit as its own tree behind an atomically swapped symlink.
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "../platform/logger.ts";
import { createGitRunner } from "./git-runner.ts";
import type { GitRunner } from "./git-runner.ts";
import type { CommitVerifier } from "./verify-commit.ts";

export type SyncFailureReason = "FetchFailed" | "VerificationFailed" | "NotDescendant" | "CheckoutFailed";

/** `revision` on a failure is the commit that stays published (undefined before the first success). */
export type SyncResult = { ok: true; revision: string; changed: boolean } | SyncFailure;

export type SyncFailure = { ok: false; reason: SyncFailureReason; message: string; revision?: string };

export type GitSyncOptions = {
  url: string;
  branch: string;
  /** Owned by berth: `repo.git` (bare), `worktrees/<sha>`, `current` and `previous` symlinks. */
  dir: string;
  /** How often the agent should call `sync()`; berth's default is 60 s (Flux's source interval). */
  intervalSeconds?: number;
  /** When set, only commits it verifies are published (fail closed). */
  verify?: CommitVerifier;
  /** Verify every commit between the published one and the new tip, not only the tip. */
  verifyRange?: boolean;
  /** A new tip must descend from the published commit: a force-push to older (replayed) history is refused. */
  noRollback?: boolean;
  logger: Logger;
  git?: GitRunner;
  fetchTimeoutMs?: number;
};

export type GitSync = {
  /** `dir/current`: the path to load desired state from (resolve it once per pass). */
  readonly currentPath: string;
  readonly intervalSeconds: number;
  /** Fetches and publishes the branch tip. Calls never overlap: a call during a sync runs once after it. */
  sync(): Promise<SyncResult>;
  /** The commit `current` points at, read from the symlink (survives restarts). */
  publishedRevision(): Promise<string | undefined>;
};

export const DEFAULT_SYNC_INTERVAL_SECONDS = 60;
/**
 * `repo.git/info/attributes` (which wins over a commit's own .gitattributes): no filter drivers,
 * no `ident` expansion, no working-tree re-encoding while checking out. End-of-line handling stays.
 */
export const CHECKOUT_ATTRIBUTES = "* -filter -ident -working-tree-encoding\n";
const SHA_PATTERN = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const LOCAL_TIMEOUT_MS = 60_000;

export function createGitSync(options: GitSyncOptions): GitSync {
  const { url, branch, dir, verify, logger } = options;
  if (!isSafeBranch(branch)) throw new Error(`invalid branch name "${branch}"`);
  if (url.startsWith("-") || url.trim() === "") throw new Error("invalid git URL");
  const intervalSeconds = options.intervalSeconds ?? DEFAULT_SYNC_INTERVAL_SECONDS;
  if (!(intervalSeconds > 0)) throw new Error("intervalSeconds must be positive");
  const git = options.git ?? createGitRunner();
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 120_000;
  const repoDir = join(dir, "repo.git");
  const worktreesDir = join(dir, "worktrees");
  const currentPath = join(dir, "current");
  const previousPath = join(dir, "previous");
  const safeUrl = redactUrl(url);
  // Credentials in the URL go to git as an HTTP header through the environment, never in argv.
  const { url: fetchUrl, config: authConfig } = splitCredentials(url);
  const ref = `refs/heads/${branch}`;
  /** Commits verified in this process; a published commit is verified once after a restart. */
  const verified = new Set<string>();
  let lastRejected: string | undefined;
  let running: Promise<SyncResult> | undefined;
  let queued: Promise<SyncResult> | undefined;
  /** Checked once per process, and again after a failed fetch. */
  let repoReady = false;
  /** git's own housekeeping (fetch runs without it) runs after a publish, off the webhook → pass path. */
  let housekeeping: Promise<void> = Promise.resolve();

  function redact(text: string): string {
    return text
      .split(url)
      .join(safeUrl)
      .replace(/(\w+:\/\/)[^/@\s]+@/g, "$1***@");
  }

  async function mirrorHealthy(): Promise<boolean> {
    const result = await git
      .run(["-C", repoDir, "rev-parse", "--is-bare-repository"], { allowFailure: true, timeoutMs: LOCAL_TIMEOUT_MS })
      .catch(() => undefined);
    return result?.exitCode === 0 && result.stdout.trim() === "true";
  }

  async function ensureRepo(): Promise<void> {
    if (repoReady) return;
    if (await mirrorHealthy()) return void (repoReady = true);
    if (await exists(repoDir)) logger.warn({ repoDir }, "git mirror is not a usable repository; recreating it");
    await rm(repoDir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await git.run(["init", "--quiet", "--bare", repoDir], { timeoutMs: LOCAL_TIMEOUT_MS });
    repoReady = true;
  }

  /** Written before every checkout: a mirror from an older berth, or one edited by hand, gets it too. */
  async function pinAttributes(): Promise<void> {
    const file = join(repoDir, "info", "attributes");
    if ((await readFile(file, "utf8").catch(() => "")) === CHECKOUT_ATTRIBUTES) return;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, CHECKOUT_ATTRIBUTES);
  }

  async function fetch(): Promise<void> {
    await ensureRepo();
    // Force pushes are detected by merge-base; git's maintenance runs after publishing.
    await git.run(
      [
        "-C",
        repoDir,
        "-c",
        "advice.fetchShowForcedUpdates=false",
        "fetch",
        "--quiet",
        "--no-tags",
        "--prune",
        "--no-write-fetch-head",
        "--no-show-forced-updates",
        "--no-auto-maintenance",
        "--",
        fetchUrl,
        `+${ref}:${ref}`,
      ],
      { timeoutMs: fetchTimeoutMs, config: authConfig },
    );
  }

  /** The fetched tip: the loose ref fetch just wrote, or rev-parse when git packed it. */
  async function fetchedTip(): Promise<string> {
    const loose = (await readFile(join(repoDir, ref), "utf8").catch(() => "")).trim();
    if (SHA_PATTERN.test(loose)) return loose;
    return (
      await git.run(["-C", repoDir, "rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`], { timeoutMs: LOCAL_TIMEOUT_MS })
    ).stdout.trim();
  }

  async function publishedRevision(): Promise<string | undefined> {
    return revisionOfLink(currentPath);
  }

  async function verifyOnce(sha: string): Promise<SyncFailure | undefined> {
    if (!verify || verified.has(sha)) return undefined;
    const result = await verify
      .verify(repoDir, sha)
      .catch((error: unknown) => ({ verified: false as const, reason: "BadSignature" as const, message: errorMessage(error) }));
    if (result.verified) {
      verified.add(sha);
      logger.info({ revision: sha, signer: result.signer }, "commit signature verified");
      return undefined;
    }
    if (lastRejected !== sha)
      logger.warn(
        { revision: sha, reason: result.reason, detail: result.message },
        "commit signature verification failed; not publishing it",
      );
    lastRejected = sha;
    return { ok: false, reason: "VerificationFailed", message: result.message };
  }

  /** Writes the tree of `sha` to a temp dir, flushes it, then renames it to `worktrees/<sha>`. */
  async function materialize(sha: string): Promise<string> {
    const final = join(worktreesDir, sha);
    if (await isDirectory(final)) return final;
    await mkdir(worktreesDir, { recursive: true });
    const suffix = randomBytes(6).toString("hex");
    const temp = join(worktreesDir, `.tmp-${sha}-${suffix}`);
    const indexFile = join(dir, `.index-${suffix}`);
    try {
      await pinAttributes();
      await mkdir(temp);
      // A private index and an explicit work tree: no worktree metadata in repo.git, no `.git` in the tree.
      await git.run(["--git-dir", repoDir, "--work-tree", temp, "read-tree", "--reset", "-u", sha], {
        env: { GIT_INDEX_FILE: indexFile },
        timeoutMs: fetchTimeoutMs,
      });
      await fsyncTree(temp);
      await rename(temp, final);
      await fsyncPath(worktreesDir);
      return final;
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    } finally {
      await rm(indexFile, { force: true });
    }
  }

  /** Deletes every tree except the published and the previous one (a pass may still be reading it). */
  async function prune(keep: ReadonlySet<string>): Promise<void> {
    const entries = await readdir(worktreesDir).catch(() => [] as string[]);
    for (const entry of entries) {
      if (keep.has(entry)) continue;
      await rm(join(worktreesDir, entry), { recursive: true, force: true });
      logger.debug({ worktree: entry }, "removed old worktree");
    }
  }

  /** Exit 0: `tip` descends from `base` (a fast-forward); 1 (not an ancestor) or 128 (the old commit is gone) mean a rewrite. */
  async function descendsFrom(tip: string, base: string): Promise<boolean> {
    const result = await git
      .run(["-C", repoDir, "merge-base", "--is-ancestor", base, tip], { allowFailure: true, timeoutMs: LOCAL_TIMEOUT_MS })
      .catch(() => undefined);
    return result?.exitCode === 0;
  }

  /** The tip alone, or with --verify-range every commit reachable from it and not from the published one. */
  async function commitsToVerify(tip: string, published: string | undefined): Promise<string[]> {
    if (!verify || !options.verifyRange || published === undefined || published === tip) return [tip];
    const { stdout } = await git.run(["-C", repoDir, "rev-list", "--reverse", tip, `^${published}`], { timeoutMs: LOCAL_TIMEOUT_MS });
    const range = stdout.split("\n").filter((line) => SHA_PATTERN.test(line));
    return range.length > 0 ? range : [tip];
  }

  async function syncOnce(): Promise<SyncResult> {
    await housekeeping;
    const published = await publishedRevision();
    try {
      await fetch().catch(async (error: unknown) => {
        // The mirror was checked earlier in this process: when it broke since, recreate it and fetch once more.
        if (!repoReady || (await mirrorHealthy())) throw error;
        repoReady = false;
        await fetch();
      });
    } catch (error) {
      const message = redact(errorMessage(error));
      logger.warn({ url: safeUrl, branch, revision: published, error: message }, "git fetch failed; keeping the published commit");
      return { ok: false, reason: "FetchFailed", message, revision: published };
    }
    let tip: string;
    try {
      tip = await fetchedTip();
    } catch (error) {
      return {
        ok: false,
        reason: "FetchFailed",
        message: `branch ${branch} not found after fetch: ${redact(errorMessage(error))}`,
        revision: published,
      };
    }
    if (options.noRollback && published !== undefined && published !== tip && !(await descendsFrom(tip, published))) {
      const message =
        `new tip ${tip.slice(0, 12)} does not descend from the last applied commit ${published.slice(0, 12)} ` +
        `(--no-rollback): a force-push to older or rewritten history is refused`;
      if (lastRejected !== tip)
        logger.warn(
          { from: published, to: tip, branch },
          "branch moved to a commit that does not descend from the applied one; not publishing it",
        );
      lastRejected = tip;
      return { ok: false, reason: "NotDescendant", message, revision: published };
    }
    let toVerify: string[];
    try {
      toVerify = await commitsToVerify(tip, published);
    } catch (error) {
      // Fail closed: a range that cannot be listed is not verified.
      return {
        ok: false,
        reason: "VerificationFailed",
        message: `could not list the commits since ${published ?? "(none)"}: ${redact(errorMessage(error))}`,
        revision: published,
      };
    }
    for (const sha of toVerify) {
      const rejected = await verifyOnce(sha);
      if (rejected) return { ...rejected, revision: published };
    }
    if (tip === published && (await isDirectory(join(worktreesDir, tip)))) return { ok: true, revision: tip, changed: false };
    const rewritten =
      published !== undefined && published !== tip ? descendsFrom(tip, published).then((descends) => !descends) : Promise.resolve(false);
    try {
      await materialize(tip);
      await swapSymlink(currentPath, `worktrees/${tip}`);
    } catch (error) {
      const message = redact(errorMessage(error));
      logger.error({ revision: tip, error: message }, "checkout failed; keeping the published commit");
      return { ok: false, reason: "CheckoutFailed", message, revision: published };
    }
    const forcePush = await rewritten;
    if (forcePush) logger.warn({ from: published, to: tip, branch }, "branch was force-pushed; publishing the new tip");
    logger.info({ revision: tip, previous: published, forcePush }, "published new revision");
    await tidyUp(tip, published).catch((error: unknown) =>
      logger.warn({ error: errorMessage(error) }, "could not remove old worktrees; will retry on the next publish"),
    );
    housekeeping = git
      .run(["-C", repoDir, "maintenance", "run", "--auto", "--quiet"], { allowFailure: true, timeoutMs: fetchTimeoutMs })
      .then(
        () => undefined,
        () => undefined,
      );
    return { ok: true, revision: tip, changed: tip !== published };
  }

  /** After `tip` is published: point `previous` at the commit it replaced, delete every other tree. */
  async function tidyUp(tip: string, published: string | undefined): Promise<void> {
    // A republished (repaired) tip keeps the old `previous`; a new tip makes the replaced one `previous`.
    const previous = published !== tip ? published : await revisionOfLink(previousPath);
    if (published !== undefined && published !== tip) await swapSymlink(previousPath, `worktrees/${published}`);
    await prune(new Set(previous !== undefined && previous !== tip ? [tip, previous] : [tip]));
  }

  function start(): Promise<SyncResult> {
    const run = syncOnce().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  }

  return {
    currentPath,
    intervalSeconds,
    publishedRevision,
    sync() {
      if (queued) return queued;
      if (!running) return start();
      const next = running.then(() => {
        queued = undefined;
        return start();
      });
      queued = next;
      return next;
    },
  };
}

/** Creates a temp symlink beside `link` and renames it over `link`: readers see the old or the new target, never none. */
async function swapSymlink(link: string, target: string): Promise<void> {
  const temp = join(dirname(link), `.${basename(link)}.${randomBytes(6).toString("hex")}.tmp`);
  await symlink(target, temp);
  try {
    await rename(temp, link);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncPath(dirname(link));
}

async function revisionOfLink(link: string): Promise<string | undefined> {
  const target = await readlink(link).catch(() => undefined);
  return target === undefined ? undefined : revisionFromPath(target);
}

/**
 * The commit a published tree holds, from its path (`…/worktrees/<sha>`, e.g. what `resolvePublished`
 * returns). Published trees carry no `.git`, so pass this to `loadDesiredState(root, { revision })`.
 */
export function revisionFromPath(path: string): string | undefined {
  const sha = basename(path);
  return SHA_PATTERN.test(sha) ? sha : undefined;
}

/** Flushes every file and folder of a freshly written tree (a few dozen files in a desired state). */
async function fsyncTree(root: string): Promise<void> {
  const paths = (await readdir(root, { withFileTypes: true, recursive: true }))
    .filter((e) => e.isFile() || e.isDirectory())
    .map((e) => join(e.parentPath, e.name));
  for (let i = 0; i < paths.length; i += 64) await Promise.all(paths.slice(i, i + 64).map(fsyncPath));
  await fsyncPath(root);
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** A branch name that cannot smuggle a refspec, an option or a path escape into our commands. */
function isSafeBranch(branch: string): boolean {
  return (
    /^[A-Za-z0-9._/-]+$/.test(branch) &&
    !branch.startsWith("-") &&
    !branch.startsWith("/") &&
    !branch.endsWith("/") &&
    !branch.endsWith(".lock") &&
    !branch.includes("..") &&
    !branch.includes("//")
  );
}

/**
 * `https://user:token@host/repo` → the URL without its credentials, and git configuration that sends
 * them as an `Authorization: Basic` header to that origin only. Other URLs (ssh, files) unchanged.
 */
export function splitCredentials(url: string): { url: string; config: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, config: {} };
  }
  if ((parsed.protocol !== "https:" && parsed.protocol !== "http:") || (!parsed.username && !parsed.password)) return { url, config: {} };
  const basic = Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString("base64");
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.toString(), config: { [`http.${parsed.origin}/.extraHeader`]: `Authorization: Basic ${basic}` } };
}

/** `https://user:token@host/repo` → `https://user:***@host/repo`; other forms unchanged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password && !parsed.username) return url;
    if (parsed.password) parsed.password = "***";
    else parsed.username = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
