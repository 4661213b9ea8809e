// `berth import --from-host`: reads the compose projects running on this host (their
// com.docker.compose.* labels and config files) and writes a desired-state repo for them.
import { cp, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import type { ComposeCli } from "../../platform/compose-cli.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ObservedContainer } from "../../platform/observed.ts";
import { hostPathsOf, importProject } from "./import-project.ts";
import type { PathKind } from "./import-project.ts";

export type ImportResult = { stacks: string[]; report: string[] };

const PROJECT = "com.docker.compose.project";

export async function importFromHost(input: {
  engine: Pick<DockerEngine, "listContainers">;
  compose: ComposeCli;
  out: string;
  machine: string;
  hostname: string;
  /** Only these projects (all when empty). */ projects?: readonly string[];
}): Promise<ImportResult> {
  if ((await readdir(input.out).catch(() => [])).length > 0) throw new Error(`${input.out} is not empty; berth import writes a new repo`);
  const containers = await input.engine.listContainers({ label: [PROJECT] });
  const projects = new Map<string, ObservedContainer[]>();
  for (const container of containers) {
    const name = container.labels[PROJECT] ?? "";
    projects.set(name, [...(projects.get(name) ?? []), container]);
  }
  const report: string[] = [];
  const stacks: string[] = [];
  for (const [name, members] of [...projects].sort(([a], [b]) => a.localeCompare(b))) {
    if (members.some((c) => c.labels[LABELS.managed] === "true")) continue;
    if (input.projects && input.projects.length > 0 && !input.projects.includes(name)) continue;
    const first = members[0];
    const workingDir = first?.labels[`${PROJECT}.working_dir`];
    const files = (first?.labels[`${PROJECT}.config_files`] ?? "").split(",").filter(Boolean);
    if (!workingDir || files.length === 0) {
      report.push(`${name}: skipped: its containers do not say where its compose files are (not started by docker compose v2?)`);
      continue;
    }
    let model: Record<string, unknown>;
    try {
      // Every profile: the services that run here decide what is imported.
      const result = await input.compose.run({ name, directory: workingDir, files }, ["--profile", "*", "config", "--format", "json"], {
        timeoutMs: 30_000,
      });
      model = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch (error) {
      report.push(
        `${name}: skipped: docker compose cannot read ${files.join(", ")}: ` +
          `${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      );
      continue;
    }
    const kinds = new Map<string, PathKind>();
    for (const path of hostPathsOf(model)) {
      const info = await stat(path).catch(() => undefined);
      kinds.set(path, info?.isFile() ? "file" : info?.isDirectory() ? "dir" : "missing");
    }
    const services = new Map(members.map((c) => [c.labels[LABELS.composeService] ?? "", c.image]));
    const stack = importProject(model, { name, workingDir, services, kindOf: (path) => kinds.get(path) ?? "missing" }, input.machine);
    const stackDir = join(input.out, "stacks", name);
    await mkdir(stackDir, { recursive: true });
    await writeFile(join(stackDir, "compose.yaml"), `# Imported by berth import from ${files.join(", ")}\n${stringify(stack.compose)}`);
    for (const copy of stack.copies) {
      await mkdir(dirname(join(stackDir, copy.to)), { recursive: true });
      await cp(copy.from, join(stackDir, copy.to), { recursive: true });
    }
    report.push(...stack.report);
    stacks.push(name);
  }
  await mkdir(join(input.out, "profiles"), { recursive: true });
  await writeFile(
    join(input.out, "berth.yaml"),
    stringify({ version: 1, machines: { [input.machine]: { profile: input.machine, hostnames: [input.hostname] } } }),
  );
  await writeFile(join(input.out, "profiles", `${input.machine}.json`), "{}\n");
  const lines = report.length > 0 ? report.map((line) => `- ${line}`) : ["- nothing: every project imported as it runs"];
  await writeFile(
    join(input.out, "IMPORT-REPORT.md"),
    `# berth import: what needs a human\n\nStacks: ${stacks.join(", ") || "none"}\n\n${lines.join("\n")}\n`,
  );
  return { stacks, report };
}
