// E2E fixture for the images reconciler: a throwaway desired-state root with uniquely named
// images, DesiredState built from it directly, fresh state dirs, and cleanup of everything created.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Budgets } from "../../desired-state/budgets-schema.ts";
import type { DesiredState, ImageSource, ImageSpec, MachineSpec } from "../../desired-state/desired-state.ts";
import { DEFAULT_PRUNE, DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import { dockerfileFacts } from "../../desired-state/dockerfile-facts.ts";
import type { Profile } from "../../profiles/profile-schema.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { createImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import type { ImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import type { ImageBuilder } from "../../reconcilers/images/image-builder.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";
import type { StatusStore } from "../../status/status-store.ts";

const execFileP = promisify(execFile);

export type WorldImage = {
  /** Short name; the berth image name is `<prefix>-<short>`. */
  short: string;
  dockerfile: string;
  files?: Record<string, string>;
  machines?: string[];
  source?: ImageSource;
  push?: boolean;
  budgets?: Budgets;
  args?: Record<string, string>;
  /** Absolute context override (to test a context outside the root). */
  context?: string;
  /** Extra parents the loader would not produce (to test a missing parent). */
  extraParents?: string[];
};

export type World = {
  root: string;
  prefix: string;
  name(short: string): string;
  images: Map<string, WorldImage>;
  profiles: Record<string, Profile>;
  machines: Record<string, string>;
  write(image: WorldImage): Promise<void>;
  writeFile(short: string, file: string, text: string): Promise<void>;
  state(options?: { registry?: string; revision?: string }): DesiredState;
  newStateDir(): Promise<string>;
  /** Removes every image labelled with this world's prefix from the engine. */
  removeImages(): Promise<void>;
  cleanup(): Promise<void>;
};

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("docker", args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function ownImageIds(prefix: string): Promise<string[]> {
  const labelled = (await docker("image", "ls", "-a", "--no-trunc", "--filter", "label=io.berth.image", "--format", "{{.ID}}"))
    .split("\n")
    .filter(Boolean);
  if (labelled.length === 0) return [];
  const out = await docker(
    "image",
    "inspect",
    "--format",
    '{{.Id}}\t{{index .Config.Labels "io.berth.image"}}',
    ...new Set(labelled),
  ).catch(() => "");
  return out
    .split("\n")
    .map((line) => line.split("\t"))
    .filter(([id, image]) => id && image?.startsWith(`${prefix}-`))
    .map(([id]) => id ?? "");
}

export async function createWorld(options: {
  machines: Record<string, string>;
  profiles: Record<string, Profile>;
  prefix?: string;
}): Promise<World> {
  const prefix = `${options.prefix ?? "berth-t"}-${Math.random().toString(36).slice(2, 8)}`;
  const root = await mkdtemp(join(tmpdir(), `${prefix}-root-`));
  const stateDirs: string[] = [];
  const images = new Map<string, WorldImage>();
  const name = (short: string): string => `${prefix}-${short}`;
  const dirOf = (short: string): string => join(root, "images", name(short));

  const world: World = {
    root,
    prefix,
    name,
    images,
    profiles: options.profiles,
    machines: options.machines,
    async write(image) {
      images.set(image.short, image);
      await mkdir(dirOf(image.short), { recursive: true });
      await writeFile(join(dirOf(image.short), "Dockerfile"), image.dockerfile);
      for (const [file, text] of Object.entries(image.files ?? {})) await world.writeFile(image.short, file, text);
    },
    async writeFile(short, file, text) {
      await mkdir(join(dirOf(short), file, ".."), { recursive: true });
      await writeFile(join(dirOf(short), file), text);
    },
    state(stateOptions = {}) {
      const names = new Set([...images.keys()].map(name));
      const specs: ImageSpec[] = [...images.values()].map((image) => {
        const dockerfile = join(dirOf(image.short), "Dockerfile");
        const facts = dockerfileFacts(image.dockerfile, new Set([...names].filter((n) => n !== name(image.short))));
        return {
          name: name(image.short),
          declaredIn: `images/${name(image.short)}/image.yaml`,
          origin: { kind: "image" },
          context: image.context ?? dirOf(image.short),
          dockerfile,
          args: image.args ?? {},
          machines: image.machines ?? Object.keys(options.machines),
          platform: "linux/amd64",
          push: image.push ?? true,
          source: image.source ?? "auto",
          budgets: image.budgets ?? {},
          dockerfileFacts: { ...facts, parents: [...facts.parents, ...(image.extraParents ?? [])] },
        };
      });
      const machines: Record<string, MachineSpec> = Object.fromEntries(
        Object.entries(options.machines).map(([machine, profile]) => [
          machine,
          { name: machine, profile, hostnames: [], prune: DEFAULT_PRUNE },
        ]),
      );
      return {
        root,
        revision: stateOptions.revision ?? "0123456789abcdef0123456789abcdef01234567",
        ...(stateOptions.registry ? { registry: stateOptions.registry } : {}),
        push: true,
        machines,
        profiles: world.profiles,
        images: specs,
        stacks: [],
        rollout: DEFAULT_ROLLOUT,
        resyncSeconds: 300,
        allowEmpty: false,
      };
    },
    async newStateDir() {
      const dir = await mkdtemp(join(tmpdir(), `${prefix}-state-`));
      stateDirs.push(dir);
      return dir;
    },
    async removeImages() {
      const ids = await ownImageIds(prefix);
      if (ids.length > 0) await docker("rmi", "-f", ...ids).catch(() => undefined);
    },
    async cleanup() {
      await world.removeImages();
      await rm(root, { recursive: true, force: true });
      for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Labels and layers of a local image, or undefined when the engine does not have it. */
export async function inspectLocal(
  ref: string,
): Promise<{ id: string; labels: Record<string, string>; layers: string[]; tags: string[] } | undefined> {
  try {
    const [image] = JSON.parse(await docker("image", "inspect", ref)) as Array<{
      Id: string;
      Config: { Labels: Record<string, string> | null };
      RootFS: { Layers?: string[] };
      RepoTags: string[];
    }>;
    return image ? { id: image.Id, labels: image.Config.Labels ?? {}, layers: image.RootFS.Layers ?? [], tags: image.RepoTags } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An images reconciler over `store` as one host's agent makes it: the host lock in the store's state
 * dir, the docker children in this process's engine selection.
 */
export function imagesReconcilerFor(
  store: StatusStore,
  builder: ImageBuilder,
  engine: DockerEngine = createDockerEngine(),
): ImagesReconciler {
  return createImagesReconciler({
    engine,
    store,
    lock: openSharedHostLock(store.dir),
    builder,
    dockerEnv: processEngineSelection().childEnv,
  });
}
