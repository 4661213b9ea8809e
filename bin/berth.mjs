#!/usr/bin/env -S node --max-semi-space-size=1
// Launcher: runs the compiled CLI when built (dist/, or BERTH_COMPILED_DIR), otherwise the
// TypeScript sources through tsx. The small young generation keeps the agent's resident memory
// within its budget (the default 16 MiB semi-spaces cost ~20 MiB more; bench/results.md has the row).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const compiledDir = process.env.BERTH_COMPILED_DIR ? resolve(process.env.BERTH_COMPILED_DIR) : fileURLToPath(new URL("../dist", import.meta.url));
const compiled = resolve(compiledDir, "controller/cli.js");
let main;
if (existsSync(compiled)) {
  ({ main } = await import(pathToFileURL(compiled).href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../controller/cli.ts"));
}
process.exitCode = await main(process.argv.slice(2));
