// Reads one YAML or JSON file of the desired state safely (size and alias limits) and
// validates it with a zod schema, reporting problems with file, line and field.
import { realpath } from "node:fs/promises";
import { isNode, LineCounter, parseDocument } from "yaml";
import type { Document } from "yaml";
import type { z } from "zod";
import { readRegularFile } from "../platform/read-regular-file.ts";
import type { Problem } from "./problem.ts";
import { isInside } from "./safe-path.ts";

/** Our own files are small; anything larger is a mistake or an attack. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Far above any honest use of anchors, far below an alias bomb. */
const MAX_ALIAS_COUNT = 100;

export type ParsedDocument = {
  value: unknown;
  lineOf: (path: readonly PropertyKey[]) => number | undefined;
};

export type ReadResult<T> = { ok: true; value: T; doc: ParsedDocument } | { ok: false; problems: Problem[] };

/**
 * Reads one file of the desired state: a regular file (never a FIFO or device, even through a
 * symlink) within MAX_FILE_BYTES. With `realRoot`, its real path must also be inside that root, so
 * a symlink to a host file is refused before anything of it is read (and nothing of it can reach
 * a message).
 */
export async function readFileLimited(
  absPath: string,
  relPath: string,
  realRoot?: string,
): Promise<{ ok: true; text: string } | { ok: false; problems: Problem[] }> {
  if (realRoot !== undefined) {
    const real = await realpath(absPath).catch(() => undefined);
    if (real !== undefined && !isInside(realRoot, real))
      return { ok: false, problems: [{ file: relPath, field: "", message: "is a symlink pointing outside the desired-state root" }] };
  }
  const read = await readRegularFile(absPath, MAX_FILE_BYTES);
  if (read.ok) return read;
  if (read.reason === "missing") return { ok: false, problems: [{ file: relPath, field: "", message: "file not found" }] };
  if (read.reason === "not-regular") return { ok: false, problems: [{ file: relPath, field: "", message: "is not a regular file" }] };
  const mib = ((read.size ?? 0) / 1024 / 1024).toFixed(1);
  return { ok: false, problems: [{ file: relPath, field: "", message: `file is ${mib} MiB, larger than the 1 MiB limit` }] };
}

/** Parses YAML (a superset of JSON) text; syntax errors and alias bombs become problems. */
export function parseYamlText(text: string, relPath: string): { ok: true; doc: ParsedDocument } | { ok: false; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => ({
        file: relPath,
        line: error.linePos?.[0]?.line,
        field: "",
        message: `invalid YAML: ${error.message.split("\n")[0] ?? error.code}`,
      })),
    };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      problems: [{ file: relPath, field: "", message: `invalid YAML: ${message} (limit ${MAX_ALIAS_COUNT} alias expansions)` }],
    };
  }
  return { ok: true, doc: { value, lineOf: (path) => lineOfPath(document, lineCounter, path) } };
}

function lineOfPath(document: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  // Walk up the path until a node with a position is found (a missing key reports its parent).
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node: unknown = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  relPath: string,
  doc: ParsedDocument,
  prefix: readonly PropertyKey[] = [],
): Problem[] {
  return issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const field = formatPath(path);
    if (keys.length > 0) {
      const first = keys[0] ?? "";
      return {
        file: relPath,
        line: doc.lineOf([...path, first]),
        field: field === "" ? keys.join(", ") : `${field}.${keys.join(", ")}`,
        message: `unknown key${keys.length > 1 ? "s" : ""} (check for a typo)`,
      };
    }
    return { file: relPath, line: doc.lineOf(path), field, message: issue.message };
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key) => String(key)).join(".");
}

/** Reads, parses and validates one file against a schema. */
export async function readDocument<S extends z.ZodType>(absPath: string, relPath: string, schema: S): Promise<ReadResult<z.output<S>>> {
  const read = await readFileLimited(absPath, relPath);
  if (!read.ok) return read;
  const parsed = parseYamlText(read.text, relPath);
  if (!parsed.ok) return parsed;
  const result = schema.safeParse(parsed.doc.value);
  if (!result.success) return { ok: false, problems: issuesToProblems(result.error.issues, relPath, parsed.doc) };
  return { ok: true, value: result.data, doc: parsed.doc };
}
