#!/usr/bin/env node
// Launcher: runs the compiled CLI when built, otherwise the TypeScript sources through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/controller/cli.js", import.meta.url));
if (existsSync(compiled)) {
  const { main } = await import(compiled);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import("../controller/cli.ts");
  process.exitCode = await main(process.argv.slice(2));
}
