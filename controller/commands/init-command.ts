// `berth init DIR`: scaffolds a desired-state repo for this host (see init-scaffold.ts) into an
// empty or new directory; it validates and applies as it is.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { availableParallelism, hostname } from "node:os";
import { dirname, join } from "node:path";
import { createNvidiaSmiReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import { stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { DEFAULT_BASE, machineName, scaffoldFiles } from "../init-scaffold.ts";

export const initCommand: CommandSpec = {
  name: "init",
  usage: [
    "Usage: berth init DIR [--machine NAME] [--stack NAME] [--base IMAGE]",
    "",
    "Writes berth.yaml with this host as a machine (NAME defaults to the hostname), a profile from",
    "its CPU count and its GPUs (nvidia-smi, when present), one example stack (--stack, default",
    `"hello": busybox's httpd built FROM --base, default ${DEFAULT_BASE}) and a .gitignore. DIR must`,
    "be empty or new. Then: berth validate DIR; berth apply DIR --machine NAME.",
  ].join("\n"),
  options: { machine: { type: "string", short: "m" }, stack: { type: "string" }, base: { type: "string" } },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) {
      io.stderr(`${initCommand.usage}\n`);
      return 2;
    }
    const existing = await readdir(dir).catch(() => [] as string[]);
    if (existing.length > 0) {
      io.stderr(
        `berth init: ${dir} is not empty (${existing.slice(0, 3).join(", ")}${existing.length > 3 ? ", …" : ""}); init writes ` +
          `into an empty or new directory only\n`,
      );
      return 2;
    }
    const machine = stringFlag(args, "machine") ?? machineName(hostname());
    const stack = stringFlag(args, "stack");
    const base = stringFlag(args, "base");
    const gpus = (await createNvidiaSmiReader().read())?.gpus ?? [];
    const files = scaffoldFiles(
      { hostname: hostname(), cpus: availableParallelism(), gpus },
      { machine, ...(stack ? { stack } : {}), ...(base ? { base } : {}) },
    );
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text, { flag: "wx" });
    }
    io.stdout(
      [
        `${dir}: desired state for machine "${machine}" (${availableParallelism()} CPUs, ` +
          `${gpus.length === 0 ? "no GPU" : `${gpus.length} GPU${gpus.length === 1 ? "" : "s"}`})`,
        ...Object.keys(files).map((path) => `  ${path}`),
        `next: berth validate ${dir} && berth apply ${dir} --machine ${machine}`,
        "",
      ].join("\n"),
    );
    return 0;
  },
};
