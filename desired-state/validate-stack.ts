// One stack checked against the rest of the desired state and the host's compose: its machines
// exist, every file it makes compose read stays inside the root (before compose reads any),
// compose accepts it, and each service follows berth's rules; the result is its StackSpec.
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import type { UpdatePolicy } from "./berth-file-schema.ts";
import { unsupportedComposeFeatures } from "./compose-features.ts";
import { composeFileSchema } from "./compose-file-schema.ts";
import { checkComposeReferences } from "./compose-references.ts";
import type { RolloutSpec, StackSpec } from "./desired-state.ts";
import { deriveService } from "./derive-service.ts";
import type { ServiceBuild } from "./derive-service.ts";
import type { ComposeNormalizer } from "./normalize-compose.ts";
import type { StackDocument } from "./parse-documents.ts";
import type { Problem } from "./problem.ts";
import { readFileLimited } from "./read-document.ts";
import { listDir } from "./read-tree.ts";
import { err, partition, unless } from "./result.ts";
import type { Result } from "./result.ts";
import { unknownMachines } from "./unknown-machines.ts";
import { isRecord } from "../platform/is-record.ts";

export type StackChecks = {
  root: string;
  machineNames: readonly string[];
  rolloutDefaults: RolloutSpec;
  updateDefault: UpdatePolicy;
  /** Without it, the stack is checked from its raw YAML only. */
  compose: ComposeNormalizer | undefined;
};

export async function validateStack(
  stack: StackDocument,
  checks: StackChecks,
): Promise<Result<{ spec: StackSpec; builds: ServiceBuild[] }>> {
  const machines = unknownMachines(stack.extension.machines, checks.machineNames, {
    file: stack.rel,
    doc: stack.doc,
    path: ["x-berth", "machines"],
  });
  if (machines.length > 0) return err(machines);
  const references = await checkComposeReferences(checks.root, { abs: stack.composePath, rel: stack.rel, doc: stack.doc });
  if (!references.ok) return references;

  let model = stack.body;
  const problems: Problem[] = [];
  if (checks.compose) {
    const normalized = await checks.compose.normalize({
      project: stack.name,
      root: checks.root,
      directory: stack.dir,
      file: stack.composePath,
      text: stack.text,
      siblingsDigest: await siblingsDigest(checks.root, stack.dir, stack.composePath, references.value),
    });
    if (!normalized.ok)
      return err([
        {
          file: stack.rel,
          field: "",
          message:
            normalized.reason === "TimedOut"
              ? `could not be checked: ${normalized.message} (the host is overloaded; the file itself may be fine)`
              : `docker compose rejects it: ${normalized.message}`,
        },
      ]);
    model = normalized.model;
    problems.push(...unsupportedComposeFeatures(model, { relFile: stack.rel, lineOf: stack.doc.lineOf }));
  }
  const services = partition(
    Object.entries(composeFileSchema.parse(model).services).flatMap(([name, config]) =>
      isRecord(config)
        ? [
            deriveService({
              stack: stack.name,
              name,
              config,
              raw: stack.services.get(name),
              rolloutDefaults: checks.rolloutDefaults,
              updateDefault: checks.updateDefault,
              file: stack.rel,
              doc: stack.doc,
            }),
          ]
        : [],
    ),
  );
  return unless([...problems, ...services.problems], () => ({
    spec: {
      name: stack.name,
      dir: stack.dir,
      composeFile: stack.composePath,
      machines: stack.extension.machines ?? "all",
      prune: stack.extension.prune ?? false,
      services: services.values.map((service) => service.spec),
      model,
    },
    builds: services.values.flatMap((service) => (service.build ? [service.build] : [])),
  }));
}

/**
 * Digest of the small regular files beside a compose file (.env) and those it reads (env_file,
 * include, extends), which can change its model.
 */
async function siblingsDigest(root: string, dir: string, composePath: string, referenced: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  const beside = (await listDir(dir)).map((name) => join(dir, name));
  for (const path of [...new Set([...beside, ...referenced])]) {
    const name = relative(dir, path);
    if (path === composePath) continue;
    // Regular files inside the root only (a symlink may point at one), within the size limit.
    const read = await readFileLimited(path, name, root);
    if (read.ok) hash.update(name).update("\0").update(read.text).update("\0");
  }
  return hash.digest("hex");
}
