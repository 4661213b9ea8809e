// `npm run build`: bundles the CLI with esbuild into dist/ (compiled JavaScript only, no
// TypeScript tooling at run time). One entry, dist/berth.js; each command's code is a chunk
// loaded when that command runs, so `berth --help` reads a few kilobytes. Packages stay external,
// resolved from node_modules at run time (bundling them all failed at start once dockerode landed:
// its ssh2 reads __dirname, which an ESM bundle lacks; native addons cannot be bundled), except
// BUNDLED: plain JavaScript that reads no files of its own, where one chunk loads faster than
// the package's many modules (zod alone is ~100 files; a warm `berth validate` spent a third of its
// CPU time resolving and compiling them).
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const BUNDLED = new Set(["zod", "yaml", "pretty-bytes", "@balena/dockerignore"]);

/** Every bare import outside BUNDLED stays a run-time import from node_modules. */
const externalPackages = {
  name: "external-packages",
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      const [scope = "", name = ""] = args.path.split("/");
      const pkg = scope.startsWith("@") ? `${scope}/${name}` : scope;
      return BUNDLED.has(pkg) || args.path.startsWith("node:") ? undefined : { path: args.path, external: true };
    });
  },
};
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
  plugins: [externalPackages],
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
// The launcher (bin/berth.cjs) answers `berth --help` from this text without loading the bundle.
const { helpText } = await import(pathToFileURL(join(outdir, "berth.js")).href);
await writeFile(join(outdir, "help.txt"), `${helpText()}\n`);
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(`build: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${outdir}\n`);
