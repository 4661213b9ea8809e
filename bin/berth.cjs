#!/usr/bin/env -S node --max-semi-space-size=1
// Launcher. In a source checkout with its dev dependencies it runs the TypeScript sources through
// tsx, so what runs is always what is checked out; elsewhere (the npm package, the image) it runs
// the bundle dist/berth.js from `npm run build`. BERTH_COMPILED_DIR picks a bundle explicitly.
// CommonJS, so that `berth --help` and `berth --version` of a bundle answer from the help text the
// build wrote and package.json without starting Node's ES module loader (~15 ms of the process).
// The small young generation keeps the agent's resident memory within its budget (the default
// 16 MiB semi-spaces cost ~20 MiB more; bench/results.md has the row).
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const { join, resolve } = require("node:path");
const { pathToFileURL } = require("node:url");

const root = join(__dirname, "..");
const sources = join(root, "controller", "cli.ts");
const bundleDir = process.env.BERTH_COMPILED_DIR ? resolve(process.env.BERTH_COMPILED_DIR) : join(root, "dist");
const args = process.argv.slice(2);

/** The answer to `--help` or `--version` when a bundle runs: the same text its `main` prints. */
function staticAnswer() {
  if (args.length !== 1) return undefined;
  const [arg] = args;
  try {
    if (arg === "--help" || arg === "-h" || arg === "help") return readFileSync(join(bundleDir, "help.txt"), "utf8");
    if (arg === "--version") return `${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version}\n`;
  } catch {
    // No help text (an older bundle) or no package.json: main answers.
  }
  return undefined;
}

async function launch() {
  const compiled = Boolean(process.env.BERTH_COMPILED_DIR) || !existsSync(sources);
  const answer = compiled ? staticAnswer() : undefined;
  if (answer !== undefined) {
    process.stdout.write(answer);
    return 0;
  }
  const tsx = compiled ? undefined : await import("tsx/esm/api").catch(() => undefined);
  if (tsx) {
    tsx.register();
    return (await import(pathToFileURL(sources).href)).main(args);
  }
  const bundle = join(bundleDir, "berth.js");
  if (!existsSync(bundle)) {
    process.stderr.write(`berth: ${bundle} is missing: run \`npm run build\` (or \`npm ci\` for the sources through tsx)\n`);
    return 1;
  }
  return (await import(pathToFileURL(bundle).href)).main(args);
}

launch().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error instanceof Error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
