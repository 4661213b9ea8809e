// The `berth` command line: parses flags and dispatches to one command module each, loaded on use.
import { parseArgs } from "node:util";
import type { LogFormat } from "../platform/logger.ts";
import { EngineSelectionError } from "../platform/engine-selection-error.ts";
import type { CliIo, CommandSpec } from "./cli-io.ts";

/**
 * Every command, loaded only when it runs: `berth --help` and a command's first line of output
 * do not wait for the modules (zod, prom-client, pino, the reconcilers) other commands need.
 */
type CommandEntry = { name: string; summary: string; load: () => Promise<CommandSpec> };

const COMMANDS: CommandEntry[] = [
  {
    name: "agent",
    summary: "run the reconciling agent (watch or git-sync the desired state, converge, serve HTTP)",
    load: async () => (await import("./commands/agent-command.ts")).agentCommand,
  },
  {
    name: "status",
    summary: "show services, images and conditions of this host (from the agent, or the state dir)",
    load: async () => (await import("./commands/status-command.ts")).statusCommand,
  },
  {
    name: "reconcile",
    summary: "ask the running agent for a full reconcile pass now",
    load: async () => (await import("./commands/reconcile-command.ts")).reconcileCommand,
  },
  {
    name: "validate",
    summary: "check a desired-state directory and the host policy over it, listing every problem",
    load: async () => (await import("./commands/validate-command.ts")).validateCommand,
  },
  {
    name: "plan",
    summary: "show what the agent would build, pull, start, update or remove on this host",
    load: async () => (await import("./commands/plan-command.ts")).planCommand,
  },
  {
    name: "apply",
    summary: "run one full reconcile pass (images, then stacks) in the foreground",
    load: async () => (await import("./commands/apply-command.ts")).applyCommand,
  },
  {
    name: "build",
    summary: "build (or pull) the images one machine needs, with the agent's hashes and tags (for CI)",
    load: async () => (await import("./commands/build-command.ts")).buildCommand,
  },
  {
    name: "ci-matrix",
    summary: "print the image × machine build matrix as JSON (for CI)",
    load: async () => (await import("./commands/ci-matrix-command.ts")).ciMatrixCommand,
  },
  {
    name: "rollback",
    summary: "pin a service to an older healthy version (rollback-N) until the desired state changes",
    load: async () => (await import("./commands/rollback-command.ts")).rollbackCommand,
  },
  {
    name: "retry",
    summary: "try a service's desired version again after a rollback or a pin",
    load: async () => (await import("./commands/retry-command.ts")).retryCommand,
  },
  {
    name: "prune",
    summary: "remove images no container, rollback or keep rule needs (--dry-run to preview)",
    load: async () => (await import("./commands/prune-command.ts")).pruneCommand,
  },
  {
    name: "metrics",
    summary: "print one Prometheus exposition of this host (no agent needed)",
    load: async () => (await import("./commands/metrics-command.ts")).metricsCommand,
  },
  {
    name: "init",
    summary: "scaffold a desired-state repo for this host (machine, profile, an example stack)",
    load: async () => (await import("./commands/init-command.ts")).initCommand,
  },
  {
    name: "report",
    summary: "print the migration table: image sizes against their baseline, build facts, budgets",
    load: async () => (await import("./commands/report-command.ts")).reportCommand,
  },
  {
    name: "import",
    summary: "write a desired-state repo from the compose projects running on this host",
    load: async () => (await import("./commands/import-command.ts")).importCommand,
  },
];

/** What `berth --help` prints (the build writes it to dist/help.txt for the launcher). */
export function helpText(): string {
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
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr(`berth: unknown command "${name}"\n\n${helpText()}\n`);
    return 2;
  }
  const command = await entry.load();
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
    return await command.run(
      { positionals: parsed.positionals, flags: parsed.values as Record<string, string | boolean | string[] | undefined> },
      io,
    );
  } catch (error) {
    if (!(error instanceof EngineSelectionError)) throw error;
    io.stderr(`berth ${name}: ${error.message}\n`);
    return 2;
  }
}

export async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(
    await readFile(new URL("../package.json", import.meta.url), "utf8").catch(() =>
      readFile(new URL("../../package.json", import.meta.url), "utf8"),
    ),
  ) as { version?: string };
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
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    tty: process.stdout.isTTY === true,
    columns: process.stdout.columns,
  };
}
