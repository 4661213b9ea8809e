// Pure images planner: for each image, in hierarchy order, reuse what is local, pull what the
// registry has, build the rest; with a PascalCase reason and a human message per decision.
import type { ImageReason } from "../../status/reasons.ts";
import { LABELS } from "../../platform/labels.ts";
import type { ImageSource } from "../../desired-state/desired-state.ts";

export type PlanImageInput = {
  name: string;
  inputHash: string;
  tag: string;
  parents: readonly string[];
  source: ImageSource;
  push: boolean;
  problem?: { reason: ImageReason; message: string };
};

export type PlanLocalImage = { id: string; repoTags: readonly string[]; labels: Readonly<Record<string, string>> };

export type RegistryView =
  | { kind: "none" }
  | { kind: "unreachable"; host: string; message: string }
  /**
   * `present`: content tags the registry has (only the ones that were asked about); `denied`: tags
   * the registry refused to say anything about (401/403 with the host's Docker credentials) → why.
   */
  | {
      kind: "reachable";
      host: string;
      present: ReadonlySet<string>;
      denied?: ReadonlyMap<string, string>;
      /** The primary did not answer and this mirror did: `present` holds primary tags the mirror has. */
      mirror?: RegistryMirror;
    };

/** `prefix`: the mirror's prefix standing in for the primary's; `primaryMessage`: why the primary was not used. */
export type RegistryMirror = { prefix: string; primary: string; primaryMessage: string };

export type ImageAction = "reuse" | "pull" | "build" | "stalled";

export type ImagePlanStep = {
  name: string;
  tag: string;
  inputHash: string;
  action: ImageAction;
  reason: ImageReason;
  message: string;
  /** For reuse: the local image with this input hash (it may still need the tag). */
  localImageId?: string;
  needsTag?: boolean;
  /** Push after building (registry reachable and push on). */
  push: boolean;
  /** For a pull from a mirror: the mirror's reference (tagged as `tag` once pulled). */
  from?: string;
};

export type PlanImagesInput = {
  images: readonly PlanImageInput[];
  localImages: readonly PlanLocalImage[];
  registry: RegistryView;
  /** Image name → input hash whose build failed before; not retried until the inputs change. */
  failedBefore?: ReadonlyMap<string, string>;
};

/** The local image carrying this input hash, preferring one that already has the tag. */
export function findLocalImage(
  input: Pick<PlanImageInput, "name" | "inputHash" | "tag">,
  localImages: readonly PlanLocalImage[],
): PlanLocalImage | undefined {
  const matching = localImages.filter(
    (image) => image.labels[LABELS.inputHash] === input.inputHash && image.labels[LABELS.image] === input.name,
  );
  return matching.find((image) => image.repoTags.includes(input.tag)) ?? matching[0];
}

/** Content tags worth asking the registry about: images not local whose source allows a pull. */
export function tagsToCheck(images: readonly PlanImageInput[], localImages: readonly PlanLocalImage[]): string[] {
  return images
    .filter((image) => !image.problem && image.source !== "build" && !findLocalImage(image, localImages))
    .map((image) => image.tag);
}

export function planImages(input: PlanImagesInput): ImagePlanStep[] {
  const steps = new Map<string, ImagePlanStep>();
  const { registry } = input;
  for (const image of input.images) {
    const base = { name: image.name, tag: image.tag, inputHash: image.inputHash, push: false };
    const stalled = (reason: ImageReason, message: string): void => {
      steps.set(image.name, { ...base, action: "stalled", reason, message });
    };
    if (image.problem) {
      stalled(image.problem.reason, image.problem.message);
      continue;
    }
    const stalledParent = image.parents.map((parent) => steps.get(parent)).find((step) => step?.action === "stalled");
    if (stalledParent) {
      stalled("ParentStalled", `parent "${stalledParent.name}" is stalled (${stalledParent.reason})`);
      continue;
    }
    const local = findLocalImage(image, input.localImages);
    if (local) {
      const needsTag = !local.repoTags.includes(image.tag);
      steps.set(image.name, {
        ...base,
        action: "reuse",
        reason: needsTag ? "Retagged" : "UpToDate",
        message: needsTag
          ? `an image with input hash ${image.inputHash.slice(0, 12)} is present locally; tagging it ${image.tag}`
          : `${image.tag} is present locally`,
        localImageId: local.id,
        needsTag,
      });
      continue;
    }
    const inRegistry = registry.kind === "reachable" && registry.present.has(image.tag);
    const denied = registry.kind === "reachable" ? registry.denied?.get(image.tag) : undefined;
    const mirror = registry.kind === "reachable" ? registry.mirror : undefined;
    const pull = (message: string): void => {
      steps.set(image.name, {
        ...base,
        action: "pull",
        reason: mirror ? "InMirror" : "InRegistry",
        ...(mirror
          ? {
              from: mirrorReference(image.tag, mirror),
              message: `${message} from mirror ${mirror.prefix} (registry ${mirror.primary} does not answer: ${mirror.primaryMessage})`,
            }
          : { message }),
      });
    };
    if (image.source === "pull") {
      if (inRegistry) pull(`pulling ${image.tag} (source: pull)`);
      else if (registry.kind === "none") stalled("NoRegistry", `source is "pull" but no registry is configured`);
      else if (registry.kind === "unreachable")
        stalled("RegistryUnreachable", `source is "pull" and registry ${registry.host} does not answer: ${registry.message}`);
      else if (denied !== undefined)
        stalled("RegistryUnauthorized", `source is "pull" and registry ${registry.host} refused access to ${image.tag}: ${denied}`);
      else if (mirror)
        stalled(
          "NotInRegistry",
          `source is "pull", registry ${registry.host} does not answer (${mirror.primaryMessage}) ` +
            `and mirror ${mirror.prefix} lacks ${image.tag}`,
        );
      else stalled("NotInRegistry", `source is "pull" but ${image.tag} is not in the registry (has CI built it?)`);
      continue;
    }
    if (image.source === "auto" && inRegistry) {
      pull(`${image.tag} was built elsewhere (CI); pulling it`);
      continue;
    }
    if (input.failedBefore?.get(image.name) === image.inputHash) {
      stalled("BuildFailed", `the build of input hash ${image.inputHash.slice(0, 12)} failed before; change the image or retry`);
      continue;
    }
    const push = image.push && registry.kind === "reachable" && !mirror && denied === undefined;
    const [reason, message]: [ImageReason, string] =
      registry.kind === "none"
        ? ["NotBuilt", `${image.tag} is not present locally; building it`]
        : mirror
          ? [
              "RegistryUnreachable",
              `registry ${registry.host} does not answer (${mirror.primaryMessage}) and mirror ${mirror.prefix} lacks ${image.tag}; ` +
                "building locally from locally cached parents",
            ]
          : registry.kind === "unreachable"
            ? [
                "RegistryUnreachable",
                `registry ${registry.host} does not answer (${registry.message}); building locally from locally cached parents`,
              ]
            : denied !== undefined
              ? [
                  "RegistryUnauthorized",
                  `registry ${registry.host} refused access to ${image.tag} (${denied}); building locally from locally cached ` +
                    `parents, not pushing`,
                ]
              : image.source === "build"
                ? ["SourceBuild", `source is "build"; building ${image.tag}`]
                : ["NotInRegistry", `${image.tag} is neither local nor in the registry; building it${push ? " and pushing" : ""}`];
    steps.set(image.name, { ...base, action: "build", reason, message, push });
  }
  return input.images.flatMap((image) => steps.get(image.name) ?? []);
}

/** The mirror's reference of a primary tag: the primary prefix replaced by the mirror's. */
export function mirrorReference(tag: string, mirror: Pick<RegistryMirror, "prefix" | "primary">): string {
  const primary = mirror.primary.replace(/\/+$/, "");
  return tag.startsWith(`${primary}/`) ? `${mirror.prefix.replace(/\/+$/, "")}${tag.slice(primary.length)}` : tag;
}
