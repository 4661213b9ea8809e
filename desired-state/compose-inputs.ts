// The files a compose file reads besides itself (env_file, include, extends.file, and theirs in
// turn): their content is part of the normalised model, so of the normaliser's cache key.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";

const MAX_DEPTH = 8;

/** Absolute paths of the files `composePath` references, recursively; unreadable ones are listed and skipped. */
export async function composeInputFiles(composePath: string, model: unknown, depth = 0): Promise<string[]> {
  const dir = dirname(composePath);
  const found = new Set<string>();
  const nested: string[] = [];
  const add = (path: unknown, into: "file" | "compose"): void => {
    if (typeof path !== "string" || path === "") return;
    const absolute = resolve(dir, path);
    found.add(absolute);
    if (into === "compose") nested.push(absolute);
  };
  if (!isRecord(model)) return [];
  for (const entry of asList(model["include"])) {
    if (typeof entry === "string") add(entry, "compose");
    else if (isRecord(entry)) {
      for (const path of asList(entry["path"])) add(path, "compose");
      for (const path of asList(entry["env_file"])) add(path, "file");
    }
  }
  for (const body of Object.values(isRecord(model["services"]) ? model["services"] : {})) {
    if (!isRecord(body)) continue;
    for (const envFile of asList(body["env_file"])) add(isRecord(envFile) ? envFile["path"] : envFile, "file");
    if (isRecord(body["extends"])) add(body["extends"]["file"], "compose");
  }
  if (depth < MAX_DEPTH) {
    for (const path of nested) {
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      let parsed: unknown;
      try {
        parsed = parse(text);
      } catch {
        continue;
      }
      for (const inner of await composeInputFiles(path, parsed, depth + 1)) found.add(inner);
    }
  }
  return [...found].sort();
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
