// Runs an external command (docker compose, buildx, git, nvidia-smi) with a timeout and abort
// signal, capturing its output; a non-zero exit becomes a CommandError with the stderr tail.
import { spawn } from "node:child_process";
import { envWithoutBerth } from "./child-env.ts";

export type CommandResult = { stdout: string; stderr: string; exitCode: number };

export type RunOptions = {
  cwd?: string;
  /** The whole environment of the child; default: the agent's without BERTH_* variables. */
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each stdout line as it arrives (progress streams). */
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
};

export class CommandError extends Error {
  readonly result: CommandResult;
  readonly command: string;
  /** The command was killed at its timeout (not a failure of its own). */
  readonly timedOut: boolean;
  constructor(command: string, result: CommandResult, timedOut = false) {
    const tail = result.stderr.trim().split("\n").slice(-12).join("\n");
    super(`${command} exited ${result.exitCode}${tail ? `: ${tail}` : ""}`);
    this.name = "CommandError";
    this.command = command;
    this.result = result;
    this.timedOut = timedOut;
  }
}

export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? envWithoutBerth(),
      stdio: ["pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    const out: string[] = [];
    const err: string[] = [];
    let timedOut = false;
    let settled = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
          // A grandchild may hold the pipes open: do not wait for them to close.
          settled = true;
          const partial = { stdout: out.join(""), stderr: `${err.join("")}\ntimed out after ${options.timeoutMs} ms`, exitCode: 124 };
          reject(new CommandError(`${file} ${args.slice(0, 3).join(" ")}`, partial, true));
        }, options.timeoutMs)
      : undefined;
    collectLines(child.stdout, out, options.onStdoutLine);
    collectLines(child.stderr, err, options.onStderrLine);
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      const result = { stdout: out.join(""), stderr: err.join(""), exitCode: code ?? (signal ? 128 : 1) };
      const name = `${file} ${args.slice(0, 3).join(" ")}`;
      settled = true;
      if (timedOut)
        reject(new CommandError(name, { ...result, stderr: `${result.stderr}\ntimed out after ${options.timeoutMs} ms` }, true));
      else if (result.exitCode !== 0 && !options.allowFailure) reject(new CommandError(name, result));
      else resolve(result);
    });
    // A child that exits without reading its input (a missing or failing helper) closes the pipe:
    // the write fails with EPIPE, and the exit code, not the write, tells what happened.
    child.stdin.on("error", () => {});
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

function collectLines(stream: NodeJS.ReadableStream, sink: string[], onLine?: (line: string) => void): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    sink.push(chunk);
    if (!onLine) return;
    partial += chunk;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
  stream.on("end", () => {
    if (onLine && partial) onLine(partial);
  });
}
