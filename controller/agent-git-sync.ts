// The agent's git source from its configuration (--repo, --branch, --verify-commits …), or none with --desired-state.
import { join } from "node:path";
import { createGitSync } from "../desired-state/git-sync.ts";
import type { GitSync } from "../desired-state/git-sync.ts";
import { createCommitVerifier } from "../desired-state/verify-commit.ts";
import type { Logger } from "../platform/logger.ts";
import type { AgentConfig } from "./agent-config.ts";

export function gitSyncFor(config: AgentConfig, logger: Logger): GitSync | undefined {
  if (!config.repo) return undefined;
  return createGitSync({
    url: config.repo,
    branch: config.branch,
    dir: join(config.stateDir, "source"),
    intervalSeconds: config.fetchIntervalSeconds,
    logger: logger.child({ source: "git" }),
    verifyRange: config.verifyRange,
    noRollback: config.noRollback,
    ...(config.verifyCommits
      ? {
          verify: createCommitVerifier(
            config.verifyCommits === "ssh"
              ? { format: "ssh", allowedSignersFile: config.allowedSigners ?? "" }
              : { format: "gpg", keyringDir: config.gpgKeyring ?? "" },
          ),
        }
      : {}),
  });
}
