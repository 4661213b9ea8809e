// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and
// writes one table to stdout and bench/results.md.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./bench-row.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

function formatTable(rows: Array<BenchRow & { suite: string }>): string {
  const header = "| suite | measure | value | target | pass | note |\n| --- | --- | --- | --- | --- | --- |";
  const body = rows.map(
    (r) =>
      `| ${r.suite} | ${r.name} | ${Number.isFinite(r.value) ? r.value.toFixed(r.value < 10 ? 2 : 1) : "n/a"} ${r.unit} | ` +
      `${r.target} | ${r.pass ? "yes" : "NO"} | ${r.note ?? ""} |`,
  );
  return [header, ...body].join("\n");
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = (await readdir(here)).filter((f) => f.endsWith(".bench.ts")).sort();
  // The desired-state row comes first, as the foundation issue asks.
  files.sort((a, b) => (a.startsWith("desired-state") ? -1 : b.startsWith("desired-state") ? 1 : a.localeCompare(b)));
  const rows: Array<BenchRow & { suite: string }> = [];
  for (const file of files) {
    const suite = file.replace(/\.bench\.ts$/, "");
    if (only.length > 0 && !only.includes(suite)) continue;
    process.stderr.write(`bench: ${suite}\n`);
    const mod = (await import(new URL(file, `file://${here}`).href)) as { run: () => Promise<BenchRow[]> };
    try {
      for (const row of await mod.run()) rows.push({ ...row, suite });
    } catch (error) {
      rows.push({
        suite,
        name: "(suite failed)",
        value: Number.NaN,
        unit: "",
        target: "",
        pass: false,
        note: error instanceof Error ? error.message.split("\n")[0] : String(error),
      });
    }
  }
  const table = formatTable(rows);
  const resultsFile = new URL("results.md", `file://${here}`);
  // Running some suites keeps the other suites' rows of the last full run.
  const kept =
    only.length === 0
      ? []
      : (await readFile(resultsFile, "utf8").catch(() => "")).split("\n").filter((line) => {
          const suite = /^\| ([a-z-]+) \|/.exec(line)?.[1];
          return suite !== undefined && suite !== "suite" && !/^-+$/.test(suite) && !only.includes(suite);
        });
  const suiteOf = (line: string): string => /^\| ([a-z-]+) \|/.exec(line)?.[1] ?? "";
  const rank = (line: string): string => (suiteOf(line) === "desired-state" ? "" : suiteOf(line));
  const body = [...kept, ...table.split("\n").slice(2)].sort((a, b) => rank(a).localeCompare(rank(b)));
  const all = [...table.split("\n").slice(0, 2), ...body].join("\n");
  const header =
    `# berth benchmarks\n\nMeasured ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ` +
    `${process.version}, 2 ` +
    `cores${only.length > 0 ? ` (suites ${only.join(", ")} re-run; the other rows are from the previous run)` : ""}.\n\n`;
  await writeFile(resultsFile, `${header}${all}\n`);
  process.stdout.write(`${table}\n`);
}

await main();
