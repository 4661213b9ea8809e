// `npm run build`: bundles the CLI with esbuild into dist/ (compiled JavaScript only, no
// TypeScript tooling at run time). One entry, dist/berth.js; each command's code is a chunk
// loaded when that command runs, so `berth --help` reads a few kilobytes. Packages from
// node_modules stay external by default (installed beside berth by npm or the image's build
// stage); --bundle-packages inlines them too (bench/cli.bench.ts compares both).
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundlePackages = process.argv.includes("--bundle-packages");
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
  packages: bundlePackages ? "bundle" : "external",
  // CommonJS packages inlined into ESM chunks call require() for Node's built-ins.
  banner: bundlePackages ? { js: 'import { createRequire as __berthRequire } from "node:module"; const require = __berthRequire(import.meta.url);' } : {},
  chunkNames: "chunks/[name]-[hash]",
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(`build: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${outdir}\n`);
