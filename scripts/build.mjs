// `npm run build`: bundles the CLI with esbuild into dist/ (compiled JavaScript only, no
// TypeScript tooling at run time). One entry, dist/berth.js; each command's code is a chunk
// loaded when that command runs, so `berth --help` reads a few kilobytes. Packages stay external,
// resolved from node_modules at run time: bundling them failed at start once dockerode landed
// (its ssh2 reads __dirname, which an ESM bundle lacks), and native addons cannot be bundled.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = process.argv.find((a) => a.startsWith("--outdir="))?.slice("--outdir=".length) ?? `${root}dist`;

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { berth: "controller/cli.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  packages: "external",
  // CommonJS packages inlined into ESM chunks call require() for Node's built-ins.
  banner: { js: 'import { createRequire as __berthRequire } from "node:module"; const require = __berthRequire(import.meta.url);' },
  chunkNames: "chunks/[name]-[hash]",
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "eof",
  logLevel: "warning",
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(`build: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${outdir}\n`);
