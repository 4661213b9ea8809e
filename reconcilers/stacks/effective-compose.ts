// The effective compose file of a stack on this machine, written to the state dir: the
// normalised model with each service's effective (or held) config; compose runs against it.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import type { ComposeProject } from "../../platform/compose-cli.ts";
import { writeFileAtomic } from "../../status/atomic-file.ts";

export type StackMeta = { prune: boolean; machine: string; revision: string; directory: string };

export function effectiveComposePath(stateDir: string, stack: string): string {
  return join(stateDir, "stacks", stack, "compose.json");
}

export function effectiveModel(
  stack: StackSpec,
  services: Readonly<Record<string, Record<string, unknown>>>,
  meta: StackMeta,
): Record<string, unknown> {
  return { ...stack.model, name: stack.name, services, "x-berth-effective": meta };
}

export async function writeEffectiveCompose(
  stateDir: string,
  stack: StackSpec,
  services: Readonly<Record<string, Record<string, unknown>>>,
  meta: StackMeta,
): Promise<ComposeProject> {
  const path = effectiveComposePath(stateDir, stack.name);
  await writeFileAtomic(path, `${JSON.stringify(effectiveModel(stack, services, meta), null, 2)}\n`);
  // Always -p, and the state folder as project directory: under git-sync the stack's directory
  // is a commit's tree that goes away (every path in the effective file is absolute already).
  return { name: stack.name, directory: dirname(path), files: [path] };
}

/** The last effective file written for a stack (used when it left the desired state, and by rollback). */
export async function readEffectiveCompose(
  stateDir: string,
  stack: string,
): Promise<{ model: Record<string, unknown>; meta?: StackMeta; project: ComposeProject } | undefined> {
  const path = effectiveComposePath(stateDir, stack);
  try {
    const model = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    const meta = model["x-berth-effective"] as StackMeta | undefined;
    return { model, ...(meta ? { meta } : {}), project: { name: stack, directory: dirname(path), files: [path] } };
  } catch {
    return undefined;
  }
}
