// `docker compose` called directly (not the npm wrapper: see docs/decisions.md): always with
// an explicit project name and directory, no ANSI, a timeout, and real Errors.
import { runCommand } from "./run-command.ts";
import type { CommandResult, RunOptions } from "./run-command.ts";

export type ComposeProject = { name: string; directory: string; files: string[] };

export type ComposeCli = {
  run(project: ComposeProject, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** The interpolated, normalised model (`config --format json`). */
  config(project: ComposeProject, options?: RunOptions): Promise<Record<string, unknown>>;
};

export function composeArgs(project: ComposeProject, args: readonly string[]): string[] {
  return ["compose", "--ansi", "never", "-p", project.name, "--project-directory", project.directory, ...project.files.flatMap((f) => ["-f", f]), ...args];
}

export function createComposeCli(options: { docker?: string; defaultTimeoutMs?: number } = {}): ComposeCli {
  const docker = options.docker ?? "docker";
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 300_000;
  return {
    run(project, args, runOptions = {}) {
      return runCommand(docker, composeArgs(project, args), { timeoutMs: defaultTimeoutMs, ...runOptions });
    },
    async config(project, runOptions = {}) {
      const result = await runCommand(docker, composeArgs(project, ["config", "--format", "json"]), { timeoutMs: 30_000, ...runOptions });
      return JSON.parse(result.stdout) as Record<string, unknown>;
    },
  };
}
