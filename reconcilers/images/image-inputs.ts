// Everything the images planner needs, computed from the desired state without building:
// per image its build args, input hash, tags and parents, in topological order.
import { readFile, realpath } from "node:fs/promises";
import { isInside } from "../../desired-state/safe-path.ts";
import type { DesiredState, ImageSpec } from "../../desired-state/desired-state.ts";
import { forMachine } from "../../desired-state/desired-state.ts";
import { ancestryChain, dependentsOf, topologicalOrder } from "../../desired-state/image-graph.ts";
import { profileBuildArgs } from "../../profiles/inject-profile.ts";
import { createFileHashCache, hashContext } from "./hash-context.ts";
import type { FileHashCache } from "./hash-context.ts";
import { inputHash } from "./input-hash.ts";
import { contentTag, humanTag, imageRepository, latestTag } from "./image-tags.ts";

export type ImageProblem = {
  reason: "DependencyCycle" | "MissingParent" | "ContextOutsideRoot" | "DockerfileUnreadable" | "ContextUnreadable" | "ParentStalled";
  message: string;
};

export type ImageInput = {
  name: string;
  spec: ImageSpec;
  /** Empty when `problem` is set. */
  inputHash: string;
  repository: string;
  /** Content tag `<repo>:<hash12>[-machine]`. */
  tag: string;
  humanTag: string;
  latestTag: string;
  /** True when profile values reached this image or one of its parents. */
  machineSpecific: boolean;
  buildArgs: Record<string, string>;
  /** Berth parents, resolved through named build contexts. */
  parents: string[];
  problem?: ImageProblem;
};

export type ImageInputOptions = { cache?: FileHashCache; localPrefix?: string; now?: Date; registry?: string };

/** The machine's images plus every image they build FROM (closure), in state order. */
function neededImages(state: DesiredState, machine: string): ImageSpec[] {
  const byName = new Map(state.images.map((image) => [image.name, image]));
  const needed = new Map(forMachine(state, machine).images.map((image) => [image.name, image]));
  let frontier = [...needed.values()];
  while (frontier.length > 0) {
    const next: ImageSpec[] = [];
    for (const image of frontier) {
      for (const parent of image.dockerfileFacts.parents) {
        const spec = byName.get(parent);
        if (spec && !needed.has(parent)) {
          needed.set(parent, spec);
          next.push(spec);
        }
      }
    }
    frontier = next;
  }
  return state.images.filter((image) => needed.has(image.name));
}

/** Topological order that survives cycles: members of a cycle (and their dependents) are set aside. */
function orderWithCycles(images: ImageSpec[]): { order: string[]; cycles: Map<string, string[]> } {
  const cycles = new Map<string, string[]>();
  let remaining = images;
  for (;;) {
    const result = topologicalOrder(remaining);
    if (result.ok) return { order: [...cycles.keys(), ...result.order], cycles };
    const members = new Set(result.cycle);
    for (const name of result.cycle) cycles.set(name, result.cycle);
    for (const dependent of result.cycle.flatMap((name) => dependentsOf(remaining, name))) {
      if (!cycles.has(dependent)) cycles.set(dependent, result.cycle);
      members.add(dependent);
    }
    remaining = remaining.filter((image) => !members.has(image.name));
  }
}

export async function computeImageInputs(state: DesiredState, machine: string, options: ImageInputOptions = {}): Promise<ImageInput[]> {
  const machineSpec = state.machines[machine];
  if (!machineSpec) throw new Error(`machine "${machine}" is not defined in the desired state`);
  const profile = state.profiles[machineSpec.profile];
  if (!profile) throw new Error(`profile "${machineSpec.profile}" of machine "${machine}" is not defined`);
  const cache = options.cache ?? createFileHashCache();
  const now = options.now ?? new Date();
  const registry = options.registry ?? state.registry;
  const images = neededImages(state, machine);
  const byName = new Map(images.map((image) => [image.name, image]));
  const allNames = new Set(state.images.map((image) => image.name));
  const realRoot = await realpath(state.root).catch(() => state.root);
  const { order, cycles } = orderWithCycles(images);
  const done = new Map<string, ImageInput>();
  // Reading Dockerfiles and hashing contexts does not depend on parents: all images at once.
  const reads = new Map(
    images.map((spec) => [
      spec.name,
      readImageSources(spec, realRoot, state.root, cache).catch((error: unknown): SourceRead => ({
        ok: false,
        problem: {
          reason: "ContextUnreadable",
          message: `cannot read the build context ${spec.context}: ${error instanceof Error ? error.message : String(error)}`,
        },
      })),
    ]),
  );

  for (const name of order) {
    const spec = byName.get(name);
    if (!spec) continue;
    const repository = imageRepository(name, registry, options.localPrefix);
    const parents = spec.dockerfileFacts.parents;
    const explicit = spec.args;
    const fromProfile = profileBuildArgs(machine, profile, new Set(spec.dockerfileFacts.declaredArgs));
    for (const key of Object.keys(explicit)) delete fromProfile[key];
    const buildArgs = { ...fromProfile, ...explicit };
    const parentInputs = parents.map((parent) => done.get(parent));
    const machineSpecific = Object.keys(fromProfile).length > 0 || parentInputs.some((p) => p?.machineSpecific === true);
    const suffix = machineSpecific ? machine : undefined;
    const base = {
      name,
      spec,
      repository,
      buildArgs,
      parents,
      machineSpecific,
      humanTag: humanTag(repository, state.revision, now, suffix),
      latestTag: latestTag(repository, suffix),
    };
    const fail = (problem: ImageProblem): void => {
      done.set(name, { ...base, inputHash: "", tag: "", problem });
    };

    const cycle = cycles.get(name);
    if (cycle) {
      fail({ reason: "DependencyCycle", message: `images build FROM each other: ${cycle.join(" → ")}` });
      continue;
    }
    const missing = parents.find((parent) => !byName.has(parent) || !allNames.has(parent));
    if (missing) {
      fail({
        reason: "MissingParent",
        message: `parent image "${missing}" is not defined (chain: ${[...ancestryChain(images, name), missing].join(" → ")})`,
      });
      continue;
    }
    const stalledParent = parentInputs.find((p) => p?.problem);
    if (stalledParent) {
      fail({
        reason: "ParentStalled",
        message:
          `parent "${stalledParent.name}" cannot be built (${stalledParent.problem?.reason}; chain: ` +
          `${ancestryChain(images, name).join(" → ")})`,
      });
      continue;
    }
    const read = await reads.get(name);
    if (!read || !read.ok) {
      fail(read?.problem ?? { reason: "DockerfileUnreadable", message: `no Dockerfile for ${name}` });
      continue;
    }
    const { dockerfileText, context } = read;
    const hash = inputHash({
      name,
      platform: spec.platform,
      dockerfileText,
      contextHash: context.hash,
      buildArgs,
      parents: Object.fromEntries(parentInputs.map((p) => [p?.name ?? "", p?.inputHash ?? ""])),
    });
    done.set(name, { ...base, inputHash: hash, tag: contentTag(repository, hash, suffix) });
  }
  return order.flatMap((name) => done.get(name) ?? []);
}

type SourceRead = { ok: true; dockerfileText: string; context: { hash: string } } | { ok: false; problem: ImageProblem };

async function readImageSources(spec: ImageSpec, realRoot: string, root: string, cache: FileHashCache): Promise<SourceRead> {
  const realContext = await realpath(spec.context).catch(() => undefined);
  if (!realContext || !isInside(realRoot, realContext)) {
    return {
      ok: false,
      problem: {
        reason: "ContextOutsideRoot",
        message: `build context ${spec.context} ${realContext ? "escapes" : "is missing from"} the desired-state root ${root}`,
      },
    };
  }
  const realDockerfile = await realpath(spec.dockerfile).catch(() => undefined);
  if (realDockerfile && !isInside(realRoot, realDockerfile)) {
    return {
      ok: false,
      problem: { reason: "ContextOutsideRoot", message: `Dockerfile ${spec.dockerfile} escapes the desired-state root ${root}` },
    };
  }
  let dockerfileText: string;
  try {
    dockerfileText = await readFile(spec.dockerfile, "utf8");
  } catch (error) {
    return {
      ok: false,
      problem: {
        reason: "DockerfileUnreadable",
        message: `cannot read ${spec.dockerfile}: ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  }
  return { ok: true, dockerfileText, context: await hashContext(realContext, spec.dockerfile, cache) };
}

/** Berth image name → the local tag that holds it on this machine (for services with `build:`). */
export function resolveImageTags(inputs: readonly ImageInput[]): Map<string, string> {
  return new Map(inputs.filter((input) => !input.problem).map((input) => [input.name, input.tag]));
}
