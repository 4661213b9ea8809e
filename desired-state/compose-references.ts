// Confines every file a compose file makes compose read (env_file, the stack's .env, include,
// extends.file, configs/secrets files) and every relative bind source to the desired-state root:
// lexically and by real path, regular files within the size limit. Checked on the raw YAML,
// before `docker compose config` reads anything, so no host file's content reaches a message.
// The files found are the compose file's inputs besides itself (part of the normaliser's cache key).
import { lstat, realpath, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { Problem } from "./problem.ts";
import { formatPath, MAX_FILE_BYTES, parseYamlText, readFileLimited } from "./read-document.ts";
import type { ParsedDocument } from "./read-document.ts";
import { unless } from "./result.ts";
import type { Result } from "./result.ts";
import { isInside } from "./safe-path.ts";
import { isRecord } from "../platform/is-record.ts";

/** include and extends chains deeper than this are refused (compose itself has no limit). */
const MAX_DEPTH = 8;

type Walk = { realRoot: string; problems: Problem[]; seen: Set<string>; read: Set<string> };
type FileAt = { abs: string; rel: string; doc: ParsedDocument };

/**
 * The real paths of the files compose reads for `file` besides it (its .env, env files, included
 * and extended files and theirs in turn, configs and secrets files), or a problem for each
 * reference that leaves the root.
 */
export async function checkComposeReferences(realRoot: string, file: FileAt): Promise<Result<string[]>> {
  const walk: Walk = { realRoot, problems: [], seen: new Set([file.abs]), read: new Set() };
  // compose reads the project directory's .env for interpolation.
  const dotEnv = join(dirname(file.abs), ".env");
  if (
    await lstat(dotEnv).then(
      () => true,
      () => false,
    )
  )
    await checkFile(walk, file, dirname(file.abs), ".env", [], { readsContent: true });
  await checkDocument(walk, file, 0);
  return unless(walk.problems, () => [...walk.read].sort());
}

async function checkDocument(walk: Walk, file: FileAt, depth: number): Promise<void> {
  const value = file.doc.value;
  if (!isRecord(value)) return;
  const base = dirname(file.abs);
  const includes = Array.isArray(value["include"]) ? value["include"] : [];
  for (const [index, entry] of includes.entries()) {
    const paths = typeof entry === "string" ? [entry] : isRecord(entry) ? listOf(entry["path"]) : [];
    const several = isRecord(entry) && Array.isArray(entry["path"]);
    for (const [k, path] of paths.entries()) {
      const field = typeof entry === "string" ? ["include", index] : ["include", index, "path", ...(several ? [k] : [])];
      const included = await checkFile(walk, file, base, path, field, { readsContent: true });
      if (included) await follow(walk, file, included, field, depth);
    }
    if (isRecord(entry)) {
      for (const [k, envFile] of listOf(entry["env_file"]).entries())
        await checkFile(walk, file, base, envFile, ["include", index, "env_file", k], { readsContent: true });
    }
  }
  for (const section of ["configs", "secrets"] as const) {
    const entries = isRecord(value[section]) ? value[section] : {};
    for (const [name, body] of Object.entries(entries)) {
      if (isRecord(body) && typeof body["file"] === "string")
        await checkFile(walk, file, base, body["file"], [section, name, "file"], { readsContent: true });
    }
  }
  const services = isRecord(value["services"]) ? value["services"] : {};
  for (const [service, rawBody] of Object.entries(services)) {
    const body = withMergeKeys(rawBody);
    const at = ["services", service];
    const envFiles = typeof body["env_file"] === "string" ? [body["env_file"]] : Array.isArray(body["env_file"]) ? body["env_file"] : [];
    for (const [index, entry] of envFiles.entries()) {
      const path = typeof entry === "string" ? entry : isRecord(entry) && typeof entry["path"] === "string" ? entry["path"] : undefined;
      if (path !== undefined)
        await checkFile(walk, file, base, path, [...at, "env_file", ...(typeof body["env_file"] === "string" ? [] : [index])], {
          readsContent: true,
        });
    }
    const extended = isRecord(body["extends"]) && typeof body["extends"]["file"] === "string" ? body["extends"]["file"] : undefined;
    if (extended !== undefined) {
      const target = await checkFile(walk, file, base, extended, [...at, "extends", "file"], { readsContent: true });
      if (target) await follow(walk, file, target, [...at, "extends", "file"], depth);
    }
    const volumes = Array.isArray(body["volumes"]) ? body["volumes"] : [];
    for (const [index, volume] of volumes.entries()) {
      const source =
        typeof volume === "string"
          ? volume.split(":")[0]
          : isRecord(volume) && volume["type"] === "bind" && typeof volume["source"] === "string"
            ? volume["source"]
            : undefined;
      // Only relative sources are the desired state's own files; absolute ones are host paths (the host policy's call).
      if (source !== undefined && source.startsWith("."))
        await checkFile(walk, file, base, source, [...at, "volumes", index], { readsContent: false });
    }
  }
}

/** Reads and checks an included or extended compose file in turn. */
async function follow(walk: Walk, from: FileAt, abs: string, field: readonly PropertyKey[], depth: number): Promise<void> {
  if (walk.seen.has(abs)) return;
  walk.seen.add(abs);
  if (depth + 1 > MAX_DEPTH) {
    walk.problems.push({
      file: from.rel,
      line: from.doc.lineOf(field),
      field: formatPath(field),
      message: `include/extends nest deeper than ${MAX_DEPTH} files`,
    });
    return;
  }
  const rel = relative(walk.realRoot, abs);
  const read = await readFileLimited(abs, rel, walk.realRoot);
  if (!read.ok) return void walk.problems.push(...read.problems);
  const parsed = parseYamlText(read.text, rel);
  if (!parsed.ok) return void walk.problems.push(...parsed.problems);
  await checkDocument(walk, { abs, rel, doc: parsed.doc }, depth + 1);
}

/**
 * Checks one path named in `file`: literal, relative, inside the root lexically and by real path;
 * when compose reads its content, a regular file within the size limit. Returns its real path
 * when it is a file that exists and passed.
 */
async function checkFile(
  walk: Walk,
  file: FileAt,
  base: string,
  named: string,
  field: readonly PropertyKey[],
  options: { readsContent: boolean },
): Promise<string | undefined> {
  const problem = (message: string): undefined =>
    void walk.problems.push({
      file: field.length === 0 ? relative(walk.realRoot, join(base, named)) : file.rel,
      line: field.length === 0 ? undefined : file.doc.lineOf(field),
      field: formatPath(field),
      message,
    });
  if (named.includes("$"))
    return problem(`"${named}" must be a literal path (no variables), so berth can check that it stays inside the desired-state root`);
  if (isAbsolute(named) || named.startsWith("~"))
    return problem(`"${named}" is outside the desired-state root (paths must be relative and stay inside it)`);
  const lexical = resolve(base, named);
  if (!isInside(walk.realRoot, lexical)) return problem(`"${named}" escapes the desired-state root`);
  const real = await realExisting(lexical);
  if (!isInside(walk.realRoot, real.path)) return problem(`"${named}" is a symlink pointing outside the desired-state root`);
  if (!options.readsContent || !real.exists) return undefined;
  const info = await stat(real.path);
  if (!info.isFile()) return problem(`"${named}" is not a regular file`);
  if (info.size > MAX_FILE_BYTES) return problem(`"${named}" is ${(info.size / 1024 / 1024).toFixed(1)} MiB, larger than the 1 MiB limit`);
  walk.read.add(real.path);
  return real.path;
}

/** The real path of `path`, or of its nearest existing ancestor (compose creates missing bind sources). */
async function realExisting(path: string): Promise<{ path: string; exists: boolean }> {
  for (let current = path, exists = true; ; current = dirname(current), exists = false) {
    const real = await realpath(current).catch(() => undefined);
    if (real !== undefined) return { path: real, exists };
    // A dangling symlink: whatever it names, it is not a file of the desired state.
    if (
      await lstat(current).then(
        () => true,
        () => false,
      )
    )
      return { path: "/", exists: false };
    if (dirname(current) === current) return { path: current, exists: false };
  }
}

/** A service mapping with YAML merge keys (`<<: *base`) applied, as compose applies them. */
function withMergeKeys(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) return {};
  const merges = value["<<"];
  const bases = (Array.isArray(merges) ? merges : [merges]).filter(isRecord).map(withMergeKeys);
  const own = Object.fromEntries(Object.entries(value).filter(([key]) => key !== "<<"));
  return Object.assign({}, ...bases.reverse(), own) as Record<string, unknown>;
}

function listOf(value: unknown): string[] {
  return typeof value === "string" ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
