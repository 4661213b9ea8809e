// One running compose project as a berth stack, pure: its normalised model (`compose config`)
// → the stack's compose document, the files to copy into the repo, and what needs a human
// (what the host policy refuses is checked on the written repo, by the import command).
import { isAbsolute, relative, sep } from "node:path";

export type PathKind = "file" | "dir" | "missing";

export type ProjectFacts = {
  name: string;
  /** com.docker.compose.project.working_dir */
  workingDir: string;
  /** Services with a container on this host, and the image reference each runs. */
  services: ReadonlyMap<string, string>;
  /** What each absolute host path the model names is on this host. */
  kindOf: (path: string) => PathKind;
};

export type ImportedStack = {
  compose: Record<string, unknown>;
  /** Host file → path relative to the stack's folder. */
  copies: Array<{ from: string; to: string }>;
  /** Lines for the report: what a human should look at before the first apply. */
  report: string[];
};

export function importProject(model: Record<string, unknown>, facts: ProjectFacts, machine: string): ImportedStack {
  const copies = new Map<string, string>();
  const report: string[] = [];
  const at = (service: string, what: string): void => void report.push(`${facts.name}/${service}: ${what}`);
  const copyOf = (path: string): string | undefined => {
    if (!inside(facts.workingDir, path)) return undefined;
    const rel = relative(facts.workingDir, path);
    copies.set(path, rel);
    return `./${rel.split(sep).join("/")}`;
  };

  const services: Record<string, unknown> = {};
  for (const [name, body] of Object.entries(isRecord(model["services"]) ? model["services"] : {})) {
    const image = facts.services.get(name);
    if (!isRecord(body) || image === undefined) continue;
    const service: Record<string, unknown> = { ...body };
    delete service["profiles"];
    if (service["build"] !== undefined) {
      const context = isRecord(service["build"]) ? service["build"]["context"] : service["build"];
      delete service["build"];
      service["image"] = image;
      at(
        name,
        `built from the local context ${String(context)}: berth runs the image that runs now (${image}); to let berth build it, ` +
          `move the context into stacks/${facts.name}/ and add build: back`,
      );
    }
    const volumes = Array.isArray(service["volumes"]) ? service["volumes"] : [];
    service["volumes"] = volumes.map((volume: unknown) => {
      if (!isRecord(volume) || volume["type"] !== "bind" || typeof volume["source"] !== "string") return volume;
      const source = volume["source"];
      const kind = facts.kindOf(source);
      // Files and read-only folders are configuration: copied into the repo. Writable folders hold data.
      const tracked = kind === "file" || (kind === "dir" && volume["read_only"] === true) ? copyOf(source) : undefined;
      if (tracked) return { ...volume, source: tracked };
      at(
        name,
        kind === "dir" && inside(facts.workingDir, source)
          ? `bind mount ${source} → ${String(volume["target"])} holds data: kept as an absolute path; to let berth keep it, copy ` +
              `it to <state>/data/${facts.name}/<folder> and mount ./<folder>`
          : `absolute bind mount ${source} → ${String(volume["target"])}: kept; the host policy's hostPaths must allow it`,
      );
      return volume;
    });
    if ((service["volumes"] as unknown[]).length === 0) delete service["volumes"];
    services[name] = service;
  }

  const compose: Record<string, unknown> = { "x-berth": { machines: [machine] }, services };
  for (const key of ["networks", "volumes"] as const) if (isRecord(model[key])) compose[key] = model[key];
  for (const kind of ["secrets", "configs"] as const) {
    if (!isRecord(model[kind])) continue;
    compose[kind] = Object.fromEntries(
      Object.entries(model[kind]).map(([name, spec]) => {
        if (!isRecord(spec) || typeof spec["file"] !== "string") return [name, spec];
        const tracked = copyOf(spec["file"]);
        if (!tracked)
          report.push(`${facts.name}: ${kind}.${name} reads ${spec["file"]}, outside the project: copy it into stacks/${facts.name}/`);
        return [name, { ...spec, file: tracked ?? spec["file"] }];
      }),
    );
  }
  if (Object.values(services).some((s) => isRecord(s) && isRecord(s["environment"]) && Object.keys(s["environment"]).length > 0)) {
    report.push(
      `${facts.name}: environment values (from .env, env_file and the shell) are written inline; move secrets out before you commit`,
    );
  }
  // `compose config` keeps a literal "$" escaped as "$$", which the stack file needs as is.
  return { compose, copies: [...copies].map(([from, to]) => ({ from, to })), report };
}

/** Absolute host paths the model names (bind sources, secret and config files), to look up before importProject. */
export function hostPathsOf(model: Record<string, unknown>): string[] {
  const paths = new Set<string>();
  for (const body of Object.values(isRecord(model["services"]) ? model["services"] : {})) {
    for (const volume of isRecord(body) && Array.isArray(body["volumes"]) ? body["volumes"] : []) {
      if (isRecord(volume) && volume["type"] === "bind" && typeof volume["source"] === "string") paths.add(volume["source"]);
    }
  }
  for (const kind of ["secrets", "configs"]) {
    for (const spec of Object.values(isRecord(model[kind]) ? model[kind] : {}))
      if (isRecord(spec) && typeof spec["file"] === "string") paths.add(spec["file"]);
  }
  return [...paths];
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
