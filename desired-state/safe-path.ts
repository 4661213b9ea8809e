// Resolves paths named in the desired state, refusing any that escape its root
// ("../", absolute paths, or a symlink pointing outside).
import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";

export type SafePath = { ok: true; path: string } | { ok: false; message: string };

/** Whether `path` is `root` or below it (both absolute, already resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** `realRoot` must already be the realpath of the desired-state root. */
export async function resolveInside(realRoot: string, base: string, named: string): Promise<SafePath> {
  if (isAbsolute(named)) return { ok: false, message: `"${named}" is an absolute path; paths must stay inside the desired-state root` };
  const lexical = resolve(base, named);
  if (!isInside(realRoot, lexical)) return { ok: false, message: `"${named}" escapes the desired-state root` };
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    return { ok: false, message: `"${named}" does not exist` };
  }
  if (!isInside(realRoot, real)) return { ok: false, message: `"${named}" is a symlink pointing outside the desired-state root` };
  return { ok: true, path: real };
}
