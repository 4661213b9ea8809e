// Where a stack's files come from on this host, independent of the commit: bind sources and
// file secrets/configs inside the desired-state root become content-addressed copies (tracked
// files) or the stack's persistent data folder (paths the commit does not have).
import { createHash, randomBytes } from "node:crypto";
import { cp, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import type { ServiceSpec, StackSpec } from "../../desired-state/desired-state.ts";

export type SourcesOptions = {
  /** Real path of the desired-state root (the commit's tree under git-sync). */
  root: string;
  stateDir: string;
  /** Create copies and data folders (the reconciler); false computes the same paths only (`berth plan`). */
  materialize: boolean;
};

/** Files a tracked folder may hold and still be a data folder: git cannot track an empty folder. */
const PLACEHOLDERS: ReadonlySet<string> = new Set([".gitkeep", ".keep", ".gitignore"]);

/** `<state>/data/<stack>`: never removed by berth (prune, stack removal, rollback). */
export function stackDataDir(stateDir: string, stack: string): string {
  return join(stateDir, "data", stack);
}

/** `<state>/sources/<stack>`: content-addressed copies of the tracked files the stack mounts. */
export function stackSourcesDir(stateDir: string, stack: string): string {
  return join(stateDir, "sources", stack);
}

/**
 * The stack with every service's bind sources, file secrets and file configs resolved for this
 * host. The copies' paths carry their content hash, so a changed file changes exactly the spec
 * hash of the services that mount it, and an unchanged one changes nothing.
 */
export async function resolveStackSources(stack: StackSpec, options: SourcesOptions): Promise<StackSpec> {
  const converted = { secrets: new Set<string>(), configs: new Set<string>() };
  const services: ServiceSpec[] = [];
  for (const service of stack.services) {
    services.push({ ...service, config: await resolveServiceSources(stack, service, options, converted) });
  }
  const model = { ...stack.model };
  for (const kind of ["secrets", "configs"] as const) {
    const top = model[kind];
    if (!isRecord(top) || converted[kind].size === 0) continue;
    // Converted ones are bind mounts now; the commit's file paths must not stay in the effective file.
    model[kind] = Object.fromEntries(Object.entries(top).filter(([name]) => !converted[kind].has(name)));
  }
  return { ...stack, services, model };
}

async function resolveServiceSources(
  stack: StackSpec,
  service: ServiceSpec,
  options: SourcesOptions,
  converted: { secrets: Set<string>; configs: Set<string> },
): Promise<Record<string, unknown>> {
  const config: Record<string, unknown> = structuredClone(service.config);
  // Only active services are in the model; the effective file must not need --profile.
  delete config["profiles"];
  const volumes: unknown[] = Array.isArray(config["volumes"]) ? [...(config["volumes"] as unknown[])] : [];
  for (const [index, volume] of volumes.entries()) {
    if (!isRecord(volume) || volume["type"] !== "bind" || typeof volume["source"] !== "string") continue;
    const source = await resolveBindSource(stack, volume["source"], options);
    if (source !== volume["source"]) volumes[index] = { ...volume, source };
  }
  for (const kind of ["secrets", "configs"] as const) {
    const refs = config[kind];
    if (!Array.isArray(refs)) continue;
    const kept: unknown[] = [];
    for (const ref of refs) {
      const name = typeof ref === "string" ? ref : isRecord(ref) && typeof ref["source"] === "string" ? ref["source"] : undefined;
      const top = name === undefined ? undefined : (stack.model[kind] as Record<string, unknown> | undefined)?.[name];
      const file = isRecord(top) && typeof top["file"] === "string" && insideRoot(options.root, top["file"]) ? top["file"] : undefined;
      const content = kind === "configs" && isRecord(top) && typeof top["content"] === "string" ? top["content"] : undefined;
      if (name === undefined || (file === undefined && content === undefined)) {
        kept.push(ref);
        continue;
      }
      if (file !== undefined && !(await stat(file).catch(() => undefined))?.isFile())
        throw new Error(
          `stack ${stack.name}, service ${service.name}: ${kind.slice(0, -1)} "${name}" file ${relative(options.root, file)} ` +
            `does not exist in the commit`,
        );
      const target = isRecord(ref) && typeof ref["target"] === "string" ? ref["target"] : undefined;
      // Compose (without swarm) bind-mounts file secrets and configs read-only; berth does it from the copy.
      const source =
        file !== undefined ? await trackedCopy(stack.name, file, options) : await contentCopy(stack.name, name, content ?? "", options);
      volumes.push({ type: "bind", source, target: mountTarget(kind, name, target), read_only: true });
      converted[kind].add(name);
    }
    if (kept.length > 0) config[kind] = kept;
    else delete config[kind];
  }
  if (volumes.length > 0) config["volumes"] = volumes;
  return config;
}

function mountTarget(kind: "secrets" | "configs", name: string, target: string | undefined): string {
  if (kind === "configs") return target ?? `/${name}`;
  if (target === undefined) return `/run/secrets/${name}`;
  return target.startsWith("/") ? target : `/run/secrets/${target}`;
}

/** A bind source on this host: unchanged outside the root, a copy for a tracked path, the data folder otherwise. */
async function resolveBindSource(stack: StackSpec, source: string, options: SourcesOptions): Promise<string> {
  if (!insideRoot(options.root, source)) return source;
  const info = await lstat(source).catch(() => undefined);
  // The engine would follow a symlink on the host: it must lead to a path inside the commit.
  if (info?.isSymbolicLink() && !insideRoot(options.root, await realpath(source).catch(() => ""))) {
    throw new Error(
      `stack ${stack.name}: bind source ${relative(options.root, source)} is a symlink that leads outside the desired-state root`,
    );
  }
  if (info && !(info.isDirectory() && (await onlyPlaceholders(source)))) return trackedCopy(stack.name, await realpath(source), options);
  const inStack = relative(stack.dir, source);
  const key = inStack.startsWith(`..${sep}`) || inStack === ".." ? join("_root", relative(options.root, source)) : inStack;
  const dataPath = join(stackDataDir(options.stateDir, stack.name), key);
  if (options.materialize) await mkdir(dataPath, { recursive: true });
  return dataPath;
}

/** `<sources>/<hash>/<name>`, copied once (temp folder + rename), never changed afterwards. */
async function trackedCopy(stack: string, source: string, options: SourcesOptions): Promise<string> {
  const hash = await contentHash(source);
  const dir = join(stackSourcesDir(options.stateDir, stack), hash.slice(0, 32));
  const path = join(dir, basename(source));
  if (!options.materialize) return path;
  if (
    await lstat(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  const temp = join(stackSourcesDir(options.stateDir, stack), `.tmp-${randomBytes(6).toString("hex")}`);
  await mkdir(temp, { recursive: true });
  try {
    await cp(source, join(temp, basename(source)), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  await publishCopy(temp, dir, path);
  return path;
}

/** A finished temp folder becomes the content-addressed folder; another pass may have made it first (same content). */
async function publishCopy(temp: string, dir: string, path: string): Promise<void> {
  try {
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (
      !(await lstat(path).then(
        () => true,
        () => false,
      ))
    )
      throw error;
  }
}

/** An inline `configs: {x: {content}}` as a file, like a tracked one: `<sources>/<hash>/<name>`. */
async function contentCopy(stack: string, name: string, content: string, options: SourcesOptions): Promise<string> {
  const hash = createHash("sha256").update(`content\0${name}\0`).update(content).digest("hex");
  const dir = join(stackSourcesDir(options.stateDir, stack), hash.slice(0, 32));
  const path = join(dir, name);
  if (
    !options.materialize ||
    (await lstat(path).then(
      () => true,
      () => false,
    ))
  )
    return path;
  const temp = join(stackSourcesDir(options.stateDir, stack), `.tmp-${randomBytes(6).toString("hex")}`);
  await mkdir(temp, { recursive: true });
  await writeFile(join(temp, name), content);
  await publishCopy(temp, dir, path);
  return path;
}

/** sha256 over a file's or folder's content, names, types and executable bits. */
export async function contentHash(path: string): Promise<string> {
  const hash = createHash("sha256");
  await hashInto(hash, path, basename(path));
  return hash.digest("hex");
}

async function hashInto(hash: ReturnType<typeof createHash>, path: string, name: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) {
    hash.update(`link\0${name}\0${await readlink(path)}\0`);
  } else if (info.isDirectory()) {
    hash.update(`dir\0${name}\0`);
    for (const entry of (await readdir(path)).sort()) await hashInto(hash, join(path, entry), `${name}/${entry}`);
    hash.update(`end\0`);
  } else if (info.isFile()) {
    const content = await readFile(path);
    hash.update(`file\0${name}\0${info.mode & 0o111 ? "x" : "-"}\0${content.length}\0`).update(content);
  }
}

async function onlyPlaceholders(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.every((entry) => entry.isFile() && PLACEHOLDERS.has(entry.name));
}

function insideRoot(root: string, path: string): boolean {
  if (!isAbsolute(path)) return false;
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Removes the stack's copies that nothing names any more: `referenced` is the text of everything
 * that may still mount one (the effective file, the services' current and rollback configs).
 * Data folders are never touched. Returns the removed folders.
 */
export async function pruneStackSources(stateDir: string, stack: string, referenced: string): Promise<string[]> {
  const dir = stackSourcesDir(stateDir, stack);
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, entry);
    if (entry.startsWith(".tmp-") || referenced.includes(path)) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
