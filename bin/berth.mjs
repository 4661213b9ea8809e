#!/usr/bin/env -S node --max-semi-space-size=1
// Launcher. In a source checkout with its dev dependencies it runs the TypeScript sources through
// tsx, so what runs is always what is checked out; elsewhere (the npm package, the image) it runs
// the bundle dist/berth.js from `npm run build`. BERTH_COMPILED_DIR picks a bundle explicitly.
// The small young generation keeps the agent's resident memory within its budget (the default
// 16 MiB semi-spaces cost ~20 MiB more; bench/results.md has the row).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const sources = fileURLToPath(new URL("../controller/cli.ts", import.meta.url));
const bundleDir = process.env.BERTH_COMPILED_DIR
  ? resolve(process.env.BERTH_COMPILED_DIR)
  : fileURLToPath(new URL("../dist", import.meta.url));
const tsx = !process.env.BERTH_COMPILED_DIR && existsSync(sources) ? await import("tsx/esm/api").catch(() => undefined) : undefined;
let main;
if (tsx) {
  tsx.register();
  ({ main } = await import(pathToFileURL(sources).href));
} else {
  const bundle = resolve(bundleDir, "berth.js");
  if (!existsSync(bundle)) {
    process.stderr.write(`berth: ${bundle} is missing: run \`npm run build\` (or \`npm ci\` for the sources through tsx)\n`);
    process.exit(1);
  }
  ({ main } = await import(pathToFileURL(bundle).href));
}
process.exitCode = await main(process.argv.slice(2));
