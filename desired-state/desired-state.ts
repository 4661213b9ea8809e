// The loaded, validated desired state as plain data: what every planner and reconciler reads.
import type { Profile } from "../profiles/profile-schema.ts";
import type { RolloutStrategy, UpdatePolicy } from "./berth-file-schema.ts";
import type { Budgets } from "./budgets-schema.ts";
import type { GpuNeed, VerifyCommand } from "./compose-extension-schema.ts";
import type { Baseline } from "./image-baseline.ts";
import type { ScanFileSpec, ScanOverride } from "./scan-schema.ts";

export type ImageSource = "build" | "pull" | "auto";

export type DockerfileFacts = {
  /** Every FROM reference, in order (stage names excluded). */
  fromRefs: string[];
  /** FROM references that name another berth image. */
  parents: string[];
  /** ARG names declared anywhere in the Dockerfile. */
  declaredArgs: string[];
  /** The final stage: the image it starts from (through earlier stages) and its USER, if set. */
  final?: { from: string; user?: string };
};

export type ImageSpec = {
  /** Berth image name: images/<name>, or <service> with "_" as "-" for a stack service's build. */
  name: string;
  /** Where it was declared, relative to the root (for messages). */
  declaredIn: string;
  origin: { kind: "image" } | { kind: "service"; stack: string; service: string };
  /** Absolute paths inside the desired-state root. */
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  /** Machines that need this image (an image used by a needed image is needed too). */
  machines: string[];
  platform: string;
  push: boolean;
  source: ImageSource;
  budgets: Budgets;
  /** The pre-migration image the size reduction is measured against (`baseline:`). */
  baseline?: Baseline;
  /** This image's overrides of the fleet's vulnerability gate. */
  scan?: ScanOverride;
  dockerfileFacts: DockerfileFacts;
};

export type RolloutSpec = {
  strategy: RolloutStrategy;
  healthTimeoutSeconds: number;
  monitorSeconds: number;
  history: number;
};

export type PruneSpec = {
  schedule: string;
  keep: number;
  minAgeSeconds: number;
  foreign: boolean;
  buildCacheMaxGiB?: number;
};

export type ServiceSpec = {
  name: string;
  stack: string;
  /** The service as `docker compose config --format json` normalised it. */
  config: Record<string, unknown>;
  /** Image reference to pull or run, when the service has no build. */
  image?: string;
  /** Berth image name built for this service, when it has `build:`. */
  buildImage?: string;
  /** Derived once by the loader: the strategy is x-berth's, else `deploy.update_config.order: start-first`, else the fleet's. */
  rollout: RolloutSpec;
  selfHeal: boolean;
  gpu?: GpuNeed;
  /** `x-berth.verify`: run in the new container after its health gate, before it takes over. */
  verify?: VerifyCommand[];
  source: ImageSource;
  /** For an image berth does not build: pinned (default) or track; see docs/stacks.md. */
  update?: UpdatePolicy;
  /** For an image berth does not build: `x-berth.scan`, over berth.yaml's `scan:` (the vulnerability gate). */
  scan?: ScanOverride;
  dependsOn: string[];
  /** A fixed host port or container_name rules out start-first. */
  hasFixedHostPort: boolean;
  containerName?: string;
};

export type StackSpec = {
  name: string;
  /** Absolute directory of the stack and its compose file. */
  dir: string;
  composeFile: string;
  machines: string[] | "all";
  prune: boolean;
  services: ServiceSpec[];
  /** The whole normalised compose model (networks, volumes, …). */
  model: Record<string, unknown>;
};

export type MachineSpec = {
  name: string;
  profile: string;
  hostnames: string[];
  gpus?: number;
  prune: PruneSpec;
};

export type DesiredState = {
  root: string;
  /** Git commit of the root, or "content-<hash>" when it is not a git checkout. */
  revision: string;
  registry?: string;
  /** berth.yaml `registry.mirrors`: prefixes asked, in order, while the primary registry does not answer. */
  registryMirrors?: string[];
  push: boolean;
  machines: Record<string, MachineSpec>;
  profiles: Record<string, Profile>;
  images: ImageSpec[];
  stacks: StackSpec[];
  rollout: RolloutSpec;
  resyncSeconds: number;
  allowEmpty: boolean;
  /** The vulnerability gate (berth.yaml `scan:`); absent: images are scanned only when they ask. */
  scan?: ScanFileSpec;
};

export const DEFAULT_ROLLOUT: RolloutSpec = { strategy: "recreate", healthTimeoutSeconds: 60, monitorSeconds: 10, history: 3 };
export const DEFAULT_PRUNE: PruneSpec = { schedule: "0 4 * * *", keep: 3, minAgeSeconds: 24 * 3600, foreign: false };
export const DEFAULT_RESYNC_SECONDS = 300;
export const DEFAULT_PLATFORM = "linux/amd64";

/** Images and stacks one machine needs. */
export function forMachine(state: DesiredState, machine: string): { images: ImageSpec[]; stacks: StackSpec[] } {
  return {
    images: state.images.filter((image) => image.machines.includes(machine)),
    stacks: state.stacks.filter((stack) => stack.machines === "all" || stack.machines.includes(machine)),
  };
}

/** The machine's profile variables ({} for an unknown machine; the loader guarantees it exists). */
export function profileOf(state: Pick<DesiredState, "machines" | "profiles">, machine: string): Record<string, string> {
  return state.profiles[state.machines[machine]?.profile ?? ""] ?? {};
}
