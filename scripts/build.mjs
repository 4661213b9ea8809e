// `npm run build`: bundles the CLI with esbuild into dist/ (compiled JavaScript only, no
// TypeScript tooling at run time). One entry, dist/berth.js; each command's code is a chunk
// loaded when that command runs, so `berth --help` reads a few kilobytes. Packages are bundled
// too (fewer files to resolve and open per process: bench/cli.bench.ts measures both ways;
// --external-packages builds the other way). Left external, resolved from node_modules at run
// time: native addons (*.node) and the packages in KEEP_EXTERNAL, which load files by path
// (pino's transports run `pino-pretty` and `thread-stream` workers from their own files).
// A new dependency that does the same belongs in KEEP_EXTERNAL and in "dependencies".
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const KEEP_EXTERNAL = ["pino-pretty", "thread-stream", "cpu-features"];

const root = fileURLToPath(new URL("..", import.meta.url));
// Packages stay external by default: dockerode's ssh2 reads __dirname, which an ESM bundle lacks (measured: the bundled build fails at start).
const externalPackages = !process.argv.includes("--bundle-packages");
const outdir = process.argv.find((a) => a.startsWith("--outdir="))?.slice("--outdir=".length) ?? `${root}dist`;

/** Native addons cannot be bundled: they stay `require()`s, resolved beside their package. */
const nativeAddons = {
  name: "native-addons",
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
  },
};

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
  packages: externalPackages ? "external" : "bundle",
  external: KEEP_EXTERNAL,
  plugins: [nativeAddons],
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
