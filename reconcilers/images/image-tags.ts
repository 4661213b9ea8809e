// How berth names the images it builds: content tags, human tags, repositories and labels.
import { LABELS } from "../../platform/labels.ts";

/** `<registry>/<name>` when a registry is configured, else `<localPrefix>/<name>`. */
export function imageRepository(name: string, registry: string | undefined, localPrefix = "berth"): string {
  return `${(registry ?? localPrefix).replace(/\/+$/, "")}/${name}`;
}

/** `<repo>:<hash12>` plus `-<machine>` when the machine profile mattered. */
export function contentTag(repository: string, inputHash: string, machine: string | undefined): string {
  return `${repository}:${inputHash.slice(0, 12)}${machine ? `-${machine}` : ""}`;
}

/** The seed's human tag `<repo>:<YYYYMMDD>-<rev7>[-machine]`, `rev7` being the desired-state commit. */
export function humanTag(repository: string, revision: string, at: Date, machine: string | undefined): string {
  const day = at.toISOString().slice(0, 10).replace(/-/g, "");
  const rev = revision.replace(/^content-/, "").slice(0, 7);
  return `${repository}:${day}-${rev}${machine ? `-${machine}` : ""}`;
}

/** The moving tag pushed beside every build, used as a cache source by the next one. */
export function latestTag(repository: string, machine: string | undefined): string {
  return `${repository}:latest${machine ? `-${machine}` : ""}`;
}

export function imageLabels(options: {
  name: string;
  inputHash: string;
  revision: string;
  machine: string | undefined;
  version: string;
  createdAt: Date;
}): Record<string, string> {
  return {
    [LABELS.managed]: "true",
    [LABELS.image]: options.name,
    [LABELS.inputHash]: options.inputHash,
    [LABELS.revision]: options.revision,
    [LABELS.machine]: options.machine ?? "shared",
    "org.opencontainers.image.title": options.name,
    "org.opencontainers.image.revision": options.revision,
    "org.opencontainers.image.version": options.version,
    "org.opencontainers.image.created": options.createdAt.toISOString(),
    "org.opencontainers.image.vendor": "berth",
  };
}
