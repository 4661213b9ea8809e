// What a CLI command receives: parsed flags, positionals, output streams and the environment.
export type CliIo = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (live progress), and its width. */
  tty?: boolean;
  columns?: number;
};

export type CommandArgs = {
  positionals: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
};

export type CommandSpec = {
  name: string;
  usage: string;
  /** Flags this command accepts (node:util parseArgs options). */
  options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;
  run: (args: CommandArgs, io: CliIo) => Promise<number>;
};

export function stringFlag(args: CommandArgs, name: string): string | undefined {
  const value = args.flags[name];
  return typeof value === "string" ? value : undefined;
}

export function listFlag(args: CommandArgs, name: string): string[] {
  const value = args.flags[name];
  if (Array.isArray(value)) return value;
  return typeof value === "string" ? [value] : [];
}

export function boolFlag(args: CommandArgs, name: string): boolean {
  return args.flags[name] === true;
}
