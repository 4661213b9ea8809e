// The `berth` command line: parses flags and dispatches to one command module each.
import { parseArgs } from "node:util";
import type { LogFormat } from "../platform/logger.ts";
import { EngineSelectionError } from "../platform/engine-selection.ts";
import type { CliIo, CommandSpec } from "./cli-io.ts";
import { agentCommand } from "./commands/agent-command.ts";
import { applyCommand } from "./commands/apply-command.ts";
import { buildCommand } from "./commands/build-command.ts";
import { ciMatrixCommand } from "./commands/ci-matrix-command.ts";
import { initCommand } from "./commands/init-command.ts";
import { metricsCommand } from "./commands/metrics-command.ts";
import { planCommand } from "./commands/plan-command.ts";
import { pruneCommand } from "./commands/prune-command.ts";
import { reconcileCommand } from "./commands/reconcile-command.ts";
import { reportCommand } from "./commands/report-command.ts";
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
  initCommand,
  reportCommand,
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
    "Every command takes --log-format json|pretty (default: pretty on a terminal, else JSON; or BERTH_LOG_FORMAT).",
  ].join("\n");
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const format = takeLogFormat(argv);
  if (!format.ok) {
    io.stderr(`berth: --log-format must be one of ${LOG_FORMATS.join(", ")}; got "${format.value}"\n`);
    return 2;
  }
  if (format.value) io.env["BERTH_LOG_FORMAT"] = format.value;
  const [name, ...rest] = format.argv;
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
  try {
    return await command.run({ positionals: parsed.positionals, flags: parsed.values as Record<string, string | boolean | string[] | undefined> }, io);
  } catch (error) {
    if (!(error instanceof EngineSelectionError)) throw error;
    io.stderr(`berth ${name}: ${error.message}\n`);
    return 2;
  }
}

export async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8").catch(() => readFile(new URL("../../package.json", import.meta.url), "utf8"))) as { version?: string };
  return pkg.version ?? "0.0.0";
}

/** `--log-format X` / `--log-format=X` anywhere on the line, taken out before the command parses its flags. */
const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

function takeLogFormat(argv: readonly string[]): { ok: true; value?: LogFormat; argv: string[] } | { ok: false; value: string } {
  const out: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    if (arg === "--log-format") {
      value = argv[i + 1] ?? "";
      i += 1;
    } else if (arg.startsWith("--log-format=")) value = arg.slice("--log-format=".length);
    else out.push(arg);
  }
  if (value === undefined) return { ok: true, argv: out };
  const known = LOG_FORMATS.find((f) => f === value);
  return known ? { ok: true, value: known, argv: out } : { ok: false, value };
}

function defaultIo(): CliIo {
  return { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), env: process.env, tty: process.stdout.isTTY === true, columns: process.stdout.columns };
}
