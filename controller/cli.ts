// The `berth` command line: parses flags and dispatches to one command module each.
import { parseArgs } from "node:util";
import type { CliIo, CommandSpec } from "./cli-io.ts";
import { agentCommand } from "./commands/agent-command.ts";
import { applyCommand } from "./commands/apply-command.ts";
import { buildCommand } from "./commands/build-command.ts";
import { ciMatrixCommand } from "./commands/ci-matrix-command.ts";
import { metricsCommand } from "./commands/metrics-command.ts";
import { planCommand } from "./commands/plan-command.ts";
import { pruneCommand } from "./commands/prune-command.ts";
import { reconcileCommand } from "./commands/reconcile-command.ts";
import { retryCommand } from "./commands/retry-command.ts";
import { rollbackCommand } from "./commands/rollback-command.ts";
import { statusCommand } from "./commands/status-command.ts";
import { validateCommand } from "./commands/validate-command.ts";

const COMMANDS: CommandSpec[] = [
  agentCommand,
  statusCommand,
  reconcileCommand,
  validateCommand,
  planCommand,
  applyCommand,
  buildCommand,
  ciMatrixCommand,
  rollbackCommand,
  retryCommand,
  pruneCommand,
  metricsCommand,
];

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "berth: a reconciling agent for Docker Compose hosts",
    "",
    "Usage: berth <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `berth <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(`${helpText()}\n`);
    return name ? 0 : 2;
  }
  if (name === "--version") {
    io.stdout(`${await version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`berth: unknown command "${name}"\n\n${helpText()}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`berth ${name}: ${error instanceof Error ? error.message : String(error)}\n${command.usage}\n`);
    return 2;
  }
  return command.run({ positionals: parsed.positionals, flags: parsed.values as Record<string, string | boolean | string[] | undefined> }, io);
}

export async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8").catch(() => readFile(new URL("../../package.json", import.meta.url), "utf8"))) as { version?: string };
  return pkg.version ?? "0.0.0";
}

function defaultIo(): CliIo {
  return { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), env: process.env, tty: process.stdout.isTTY === true, columns: process.stdout.columns };
}
