#!/usr/bin/env -S node --max-semi-space-size=1
// Launcher: runs the bundled CLI (dist/berth.js from `npm run build`, or BERTH_COMPILED_DIR),
// otherwise, in a source checkout, the TypeScript sources through tsx (a dev dependency).
// The small young generation keeps the agent's resident memory within its budget (the default
// 16 MiB semi-spaces cost ~20 MiB more; bench/results.md has the row).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const compiledDir = process.env.BERTH_COMPILED_DIR ? resolve(process.env.BERTH_COMPILED_DIR) : fileURLToPath(new URL("../dist", import.meta.url));
const compiled = resolve(compiledDir, "berth.js");
let main;
if (existsSync(compiled)) {
  ({ main } = await import(pathToFileURL(compiled).href));
} else {
  const tsx = await import("tsx/esm/api").catch(() => undefined);
  if (!tsx) {
    process.stderr.write(`berth: ${compiled} is missing and tsx is not installed: run \`npm run build\` in a source checkout\n`);
    process.exit(1);
  }
  tsx.register();
  ({ main } = await import("../controller/cli.ts"));
}
process.exitCode = await main(process.argv.slice(2));
