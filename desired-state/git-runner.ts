// Git behind a small interface: runs `git` non-interactively (no prompts, C locale) with a timeout.
import { runCommand } from "../platform/run-command.ts";
import type { CommandResult } from "../platform/run-command.ts";

export type GitRunOptions = {
  cwd?: string;
  /** Extra environment on top of the runner's (e.g. GIT_INDEX_FILE, GNUPGHOME). */
  env?: Record<string, string>;
  timeoutMs?: number;
  allowFailure?: boolean;
};

export type GitRunner = { run(args: readonly string[], options?: GitRunOptions): Promise<CommandResult> };

export const DEFAULT_GIT_TIMEOUT_MS = 120_000;

/**
 * The one real implementation. Never prompts (a missing credential fails instead of hanging the
 * agent), and forces the C locale so messages we classify (verify-commit) are not translated.
 */
export function createGitRunner(options: { program?: string; timeoutMs?: number } = {}): GitRunner {
  const program = options.program ?? "git";
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    LC_ALL: "C",
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_SSH_COMMAND: process.env["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes",
  };
  return {
    run(args, runOptions = {}) {
      return runCommand(program, args, {
        cwd: runOptions.cwd,
        env: runOptions.env ? { ...base, ...runOptions.env } : base,
        timeoutMs: runOptions.timeoutMs ?? options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
        allowFailure: runOptions.allowFailure,
      });
    },
  };
}
