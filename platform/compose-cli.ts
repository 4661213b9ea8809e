// `docker compose` called directly (not the npm wrapper: see docs/decisions.md): always with
// an explicit project name and directory, no ANSI, a timeout, real Errors, and only the selected
// engine's environment (never the agent's own).
import { processEngineSelection } from "./engine-selection.ts";
import { runCommand } from "./run-command.ts";
import type { CommandResult, RunOptions } from "./run-command.ts";

export type ComposeProject = { name: string; directory: string; files: string[] };

export type ComposeCli = {
  run(project: ComposeProject, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** The interpolated, normalised model (`config --format json`). */
  config(project: ComposeProject, options?: RunOptions): Promise<Record<string, unknown>>;
};

export function composeArgs(project: ComposeProject, args: readonly string[]): string[] {
  return [
    "compose",
    "--ansi",
    "never",
    "-p",
    project.name,
    "--project-directory",
    project.directory,
    ...project.files.flatMap((f) => ["-f", f]),
    ...args,
  ];
}

/** `env` is the whole environment of every compose process: the engine selection's `childEnv`. */
export function createComposeCli(
  options: { docker?: string; defaultTimeoutMs?: number; env?: Readonly<Record<string, string>> } = {},
): ComposeCli {
  const docker = options.docker ?? "docker";
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 300_000;
  const env = options.env ?? processEngineSelection().childEnv;
  return {
    run(project, args, runOptions = {}) {
      return runCommand(docker, composeArgs(project, args), { timeoutMs: defaultTimeoutMs, ...runOptions, env });
    },
    async config(project, runOptions = {}) {
      const result = await runCommand(docker, composeArgs(project, ["config", "--format", "json"]), {
        timeoutMs: 30_000,
        ...runOptions,
        env,
      });
      return JSON.parse(result.stdout) as Record<string, unknown>;
    },
  };
}
