// The revision of a desired-state root: its git commit, or a digest of its files.
import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runCommand } from "../platform/run-command.ts";
import { compareText } from "../platform/compare-text.ts";

export async function gitRevision(root: string): Promise<string | undefined> {
  // Only the root itself may be the repository: never climb to an unrelated parent checkout.
  // Without root/.git (a directory, or a worktree's file) it is none: no git process to start.
  if (
    !(await access(join(root, ".git")).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: dirname(root) };
  const result = await runCommand("git", ["-C", root, "rev-parse", "--verify", "HEAD"], { allowFailure: true, timeoutMs: 5000, env }).catch(
    () => undefined,
  );
  if (!result || result.exitCode !== 0) return undefined;
  const sha = result.stdout.trim();
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/** A digest over (path, content) pairs, for roots that are not git checkouts. */
export function contentRevision(files: ReadonlyArray<readonly [string, string]>): string {
  const hash = createHash("sha256");
  for (const [path, content] of [...files].sort(([a], [b]) => compareText(a, b))) {
    hash.update(path).update("\0").update(content).update("\0");
  }
  return `content-${hash.digest("hex").slice(0, 12)}`;
}
