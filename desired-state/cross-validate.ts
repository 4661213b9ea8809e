// Phase 3 of loading a desired state: the parsed documents checked against each other and the
// host's compose (machines' profiles, stacks through validateStack, every image berth builds
// resolved with its Dockerfile), into specs of stacks and images.
import type { BerthFile } from "./berth-file-schema.ts";
import { DEFAULT_PLATFORM, DEFAULT_ROLLOUT } from "./desired-state.ts";
import type { DesiredState, ImageSpec } from "./desired-state.ts";
import type { ComposeNormalizer } from "./normalize-compose.ts";
import type { Documents } from "./parse-documents.ts";
import type { Problem } from "./problem.ts";
import { resolveImage } from "./resolve-image.ts";
import type { ImageToResolve } from "./resolve-image.ts";
import { partition, unless } from "./result.ts";
import type { Result } from "./result.ts";
import { rolloutSpec } from "./rollout-spec.ts";
import type { TreeReader } from "./tree-reader.ts";
import { unknownMachines } from "./unknown-machines.ts";
import { validateStack } from "./validate-stack.ts";

/** The state's parts checked against each other; images in declaration order (berth's, then stacks' builds). */
export type Validated = Pick<DesiredState, "profiles" | "images" | "stacks" | "rollout"> & { berth: BerthFile };

export async function crossValidate(
  docs: Documents,
  options: { root: string; reader: TreeReader; compose: ComposeNormalizer | undefined },
): Promise<Result<Validated>> {
  const { root, reader } = options;
  const berth = docs.berth.file;
  const machineNames = Object.keys(berth.machines);
  const missingProfiles: Problem[] = Object.entries(berth.machines)
    .filter(([, spec]) => !docs.profiles[spec.profile])
    .map(([machine, spec]) => ({
      file: "berth.yaml",
      line: docs.berth.doc.lineOf(["machines", machine, "profile"]),
      field: `machines.${machine}.profile`,
      message: `profile "${spec.profile}" not found (expected profiles/${spec.profile}.json)`,
    }));

  const rollout = rolloutSpec(DEFAULT_ROLLOUT, berth.rollout);
  const checks = { root, machineNames, rolloutDefaults: rollout, updateDefault: berth.update ?? "pinned", compose: options.compose };
  // Compose normalisation is one process per stack: run them side by side.
  const checked = await Promise.all(docs.stacks.map((stack) => validateStack(stack, checks)));
  const stacks = partition(checked);

  const push = berth.push ?? true;
  const unknown = docs.images.flatMap((image) =>
    unknownMachines(image.file.machines, machineNames, { file: image.rel, doc: image.doc, path: ["machines"] }),
  );
  const toResolve: ImageToResolve[] = docs.images.map((image) => ({
    name: image.name,
    declaredIn: image.rel,
    origin: { kind: "image" },
    args: image.file.args ?? {},
    machines: image.file.machines ?? machineNames,
    platform: image.file.platform ?? DEFAULT_PLATFORM,
    push: image.file.push ?? push,
    source: image.file.source ?? "auto",
    budgets: image.file.budgets ?? {},
    ...(image.file.baseline ? { baseline: image.file.baseline } : {}),
    ...(image.file.scan ? { scan: image.file.scan } : {}),
    baseDir: image.dir,
    contextNamed: image.file.context ?? ".",
    dockerfileNamed: image.file.dockerfile ?? "Dockerfile",
    lineOf: image.doc.lineOf,
  }));
  const berthImageNames = new Set(toResolve.map((image) => image.name));
  const conflicts: Problem[] = [];
  docs.stacks.forEach((stack, index) => {
    const result = checked[index];
    for (const build of result?.ok ? result.value.builds : []) {
      if (berthImageNames.has(build.imageName)) {
        conflicts.push({
          file: stack.rel,
          field: `services.${build.service}.build`,
          message: `builds an image named "${build.imageName}", which images/${build.imageName} already defines`,
        });
        continue;
      }
      toResolve.push({
        name: build.imageName,
        declaredIn: stack.rel,
        origin: { kind: "service", stack: stack.name, service: build.service },
        args: build.args,
        machines: stack.extension.machines ?? machineNames,
        platform: DEFAULT_PLATFORM,
        push,
        source: build.source,
        budgets: build.budgets,
        ...(build.baseline ? { baseline: build.baseline } : {}),
        ...(build.scan ? { scan: build.scan } : {}),
        baseDir: stack.dir,
        contextNamed: build.context,
        dockerfileNamed: build.dockerfile,
        lineOf: () => undefined,
      });
    }
  });
  const imageNames = new Set(toResolve.map((image) => image.name));
  const resolved: Array<Result<ImageSpec>> = [];
  for (const image of toResolve) resolved.push(await resolveImage(image, { root, reader, imageNames }));
  const images = partition(resolved);

  return unless([...missingProfiles, ...stacks.problems, ...unknown, ...conflicts, ...images.problems], () => ({
    berth,
    profiles: docs.profiles,
    images: images.values,
    stacks: stacks.values.map((stack) => stack.spec),
    rollout,
  }));
}
