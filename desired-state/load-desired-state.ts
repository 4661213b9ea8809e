// Loads and validates a whole desired-state root (berth.yaml, profiles, images, stacks) into a
// DesiredState in four phases (readTree → parseDocuments → crossValidate → assemble); the first
// phase with problems stops the load, with every problem it found (file, line, field).
import { realpath } from "node:fs/promises";
import { assemble } from "./assemble.ts";
import { crossValidate } from "./cross-validate.ts";
import type { DesiredState } from "./desired-state.ts";
import type { ComposeNormalizer } from "./normalize-compose.ts";
import { parseDocuments } from "./parse-documents.ts";
import type { Problem } from "./problem.ts";
import { readTree } from "./read-tree.ts";
import { contentRevision, gitRevision } from "./revision.ts";
import { createTreeReader } from "./tree-reader.ts";

export { MAX_ENTRIES_PER_FOLDER, MAX_TOTAL_BYTES } from "./read-tree.ts";

export type LoadOptions = {
  /** Normalises compose files; without it stacks are validated from their raw YAML only. */
  compose?: ComposeNormalizer;
  /** Known revision (e.g. from git sync); otherwise read from git or the content. */
  revision?: string;
};

export type LoadResult = { ok: true; state: DesiredState } | { ok: false; problems: Problem[]; revision?: string };

export async function loadDesiredState(rootDir: string, options: LoadOptions = {}): Promise<LoadResult> {
  let root: string;
  try {
    root = await realpath(rootDir);
  } catch {
    return { ok: false, problems: [{ file: rootDir, field: "", message: "desired-state directory not found" }] };
  }
  const reader = createTreeReader(root);

  const tree = await readTree(root, reader);
  const docs = tree.ok ? parseDocuments(tree.value) : tree;
  const validated = docs.ok ? await crossValidate(docs.value, { root, reader, compose: options.compose }) : docs;
  const revision = options.revision ?? (await gitRevision(root)) ?? contentRevision(reader.files);
  const state = validated.ok ? assemble(validated.value, { root, revision }) : validated;
  return state.ok ? { ok: true, state: state.value } : { ok: false, problems: dedupe(state.error), revision };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}|${p.line}|${p.field}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
