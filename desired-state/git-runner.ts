// Git behind a small interface: runs `git` non-interactively (no prompts, C locale) with a timeout,
// hardened against the host's and the remote's configuration (no system or global config, no
// hooks, fsck on transfer) and without the agent's BERTH_* variables.
import { envWithoutBerth } from "../platform/child-env.ts";
import { runCommand } from "../platform/run-command.ts";
import type { CommandResult } from "../platform/run-command.ts";

export type GitRunOptions = {
  cwd?: string;
  /** Extra environment on top of the runner's (e.g. GIT_INDEX_FILE, GNUPGHOME). */
  env?: Record<string, string>;
  /**
   * Extra configuration for this call only, given through the environment (GIT_CONFIG_COUNT…),
   * never on the command line: a credential header here is not visible in `ps`.
   */
  config?: Record<string, string>;
  timeoutMs?: number;
  allowFailure?: boolean;
};

export type GitRunner = { run(args: readonly string[], options?: GitRunOptions): Promise<CommandResult> };

export const DEFAULT_GIT_TIMEOUT_MS = 120_000;

/**
 * Configuration every git call gets, whatever the host's ~/.gitconfig or /etc/gitconfig say (those
 * are not read at all): no hooks, objects checked on fetch.
 */
export const HARDENED_GIT_CONFIG: Readonly<Record<string, string>> = {
  "core.hooksPath": "/dev/null",
  "transfer.fsckObjects": "true",
  "core.fsmonitor": "false",
  "protocol.ext.allow": "never",
};

/**
 * The one real implementation. Never prompts (a missing credential fails instead of hanging the
 * agent), and forces the C locale so messages we classify (verify-commit) are not translated.
 */
export function createGitRunner(options: { program?: string; timeoutMs?: number } = {}): GitRunner {
  const program = options.program ?? "git";
  const base: NodeJS.ProcessEnv = {
    ...envWithoutBerth(),
    LC_ALL: "C",
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: process.env["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes",
    // Neither the host's system nor its global config: a filter or hook defined there never runs for us.
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
  return {
    run(args, runOptions = {}) {
      return runCommand(program, args, {
        cwd: runOptions.cwd,
        env: { ...base, ...runOptions.env, ...configEnv({ ...HARDENED_GIT_CONFIG, ...runOptions.config }) },
        timeoutMs: runOptions.timeoutMs ?? options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
        allowFailure: runOptions.allowFailure,
      });
    },
  };
}

/** Command-scope git configuration as GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n. */
function configEnv(config: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(config);
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}
