// Content hash of a build context: every file the build can see (after .dockerignore), with a
// stat-keyed cache so an unchanged context is re-hashed from metadata alone.
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { lstat, open, readdir, readFile, readlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
// CommonJS whose types declare `export default`: under NodeNext the factory is `.default` (it sets that itself).
import balenaDockerignore from "@balena/dockerignore";
import { readRegularFile } from "../../platform/read-regular-file.ts";

type CachedFile = { size: number; mtimeMs: number; ctimeMs: number; ino: number; hash: string };

/** Remembers file hashes by (path, size, mtime, ctime, inode) across passes. */
export type FileHashCache = { readonly files: Map<string, CachedFile> };

export function createFileHashCache(): FileHashCache {
  return { files: new Map() };
}

export type ContextHash = { hash: string; files: number; bytes: number; hashedBytes: number };

/** Files up to this size are read whole; larger ones in chunks (bounded memory). */
const WHOLE_FILE_LIMIT = 32 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

/** A .dockerignore larger than this is refused (real ones are a few hundred bytes). */
export const MAX_DOCKERIGNORE_BYTES = 256 * 1024;

export type IgnoreMatcher = {
  /** True when the context-relative path (forward slashes) is hidden from the build. */
  ignores(path: string): boolean;
  /** True when some "!" rule could re-include a path below an ignored directory. */
  readonly hasExceptions: boolean;
};

/**
 * The .dockerignore that applies: `<Dockerfile>.dockerignore` beside the Dockerfile wins over the
 * context's. Read bounded: a regular file (a symlink to /dev/zero or a FIFO is refused) within
 * MAX_DOCKERIGNORE_BYTES; anything else throws, naming the file.
 */
export async function ignoreMatcherFor(context: string, dockerfile: string): Promise<IgnoreMatcher> {
  const specific = await readIgnoreFile(join(dirname(dockerfile), `${basename(dockerfile)}.dockerignore`));
  return parseDockerignore(specific ?? (await readIgnoreFile(join(context, ".dockerignore"))) ?? "");
}

/** moby's .dockerignore semantics (@balena/dockerignore, case-sensitive like Docker on Linux). */
export function parseDockerignore(text: string): IgnoreMatcher {
  const lines = text.split(/\r?\n/);
  const matcher = balenaDockerignore.default({ ignorecase: false }).add(lines.map(escapeRegexLiterals));
  return { ignores: (path) => matcher.ignores(path), hasExceptions: lines.some((line) => line.trim().startsWith("!")) };
}

/**
 * @balena/dockerignore turns a pattern into a RegExp escaping only "." and "$", so "(", "+", "|",
 * "{" … in a name (e.g. `dist/pkg-1.0+g1-py3-none-any.whl`) would act as regex syntax and the file
 * would not match as moby matches it. Escape them outside [...] classes (its "\\x" is a literal x).
 */
function escapeRegexLiterals(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i] ?? "";
    if (ch === "\\") {
      out += pattern.slice(i, i + 2);
      i += 1;
    } else if (inClass) {
      out += ch;
      if (ch === "]") inClass = false;
    } else if (ch === "[") {
      inClass = true;
      out += ch;
    } else out += "()|+{}^]".includes(ch) ? `\\${ch}` : ch;
  }
  return out;
}

async function readIgnoreFile(path: string): Promise<string | undefined> {
  const read = await readRegularFile(path, MAX_DOCKERIGNORE_BYTES);
  if (read.ok) return read.text;
  if (read.reason === "missing") return undefined;
  throw new Error(
    read.reason === "too-large"
      ? `${path} is larger than the ${MAX_DOCKERIGNORE_BYTES / 1024} KiB limit for a .dockerignore`
      : `${path} is not a regular file`,
  );
}

export async function hashContext(context: string, dockerfile: string, cache: FileHashCache = createFileHashCache()): Promise<ContextHash> {
  const matcher = await ignoreMatcherFor(context, dockerfile);
  // Walk first (manifest order), then hash the files that changed with a few reads in flight,
  // so file I/O (libuv threads) overlaps hashing (main thread).
  const lines: string[] = [];
  const pending: Array<{ line: number; abs: string; relPath: string; exec: string; stat: Stats }> = [];
  let files = 0;
  let bytes = 0;
  let hashedBytes = 0;

  async function walk(dir: string, rel: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const relPath = rel === "" ? name : `${rel}/${name}`;
      const abs = join(dir, name);
      const ignored = matcher.ignores(relPath);
      const stat = await lstat(abs);
      if (stat.isDirectory()) {
        if (ignored && !matcher.hasExceptions) continue;
        if (!ignored) lines.push(`d ${relPath}\n`);
        await walk(abs, relPath);
        continue;
      }
      if (ignored) continue;
      if (stat.isSymbolicLink()) {
        lines.push(`l ${relPath} ${await readlink(abs)}\n`);
        continue;
      }
      if (!stat.isFile()) continue;
      files += 1;
      bytes += stat.size;
      const exec = (stat.mode & 0o111) !== 0 ? "x" : "-";
      const cached = cache.files.get(abs);
      if (
        cached &&
        cached.size === stat.size &&
        cached.mtimeMs === stat.mtimeMs &&
        cached.ctimeMs === stat.ctimeMs &&
        cached.ino === stat.ino
      ) {
        lines.push(`f ${relPath} ${exec} ${cached.hash}\n`);
      } else {
        pending.push({ line: lines.length, abs, relPath, exec, stat });
        lines.push("");
      }
    }
  }

  await walk(context, "");
  let next = 0;
  async function worker(): Promise<void> {
    for (let job = pending[next++]; job !== undefined; job = pending[next++]) {
      const hash = await hashFile(job.abs, job.stat.size);
      hashedBytes += job.stat.size;
      cache.files.set(job.abs, { size: job.stat.size, mtimeMs: job.stat.mtimeMs, ctimeMs: job.stat.ctimeMs, ino: job.stat.ino, hash });
      lines[job.line] = `f ${job.relPath} ${job.exec} ${hash}\n`;
    }
  }
  await Promise.all(Array.from({ length: Math.min(4, pending.length) }, worker));
  const manifest = createHash("sha256");
  for (const line of lines) manifest.update(line);
  return { hash: manifest.digest("hex"), files, bytes, hashedBytes };
}

async function hashFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  if (size <= WHOLE_FILE_LIMIT) {
    hash.update(await readFile(path));
    return hash.digest("hex");
  }
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}
