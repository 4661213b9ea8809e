// One service's effective compose config on one machine: exact image tag, profile environment,
// berth labels and GPU reservations, plus the spec hash over all of it.
import { ServiceReason } from "../../status/reasons.ts";
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import { LABELS } from "../../platform/labels.ts";
import { serviceEnvironment } from "../../profiles/inject-profile.ts";
import type { Profile } from "../../profiles/profile-schema.ts";
import { specHash } from "./spec-hash.ts";

export type EffectiveService =
  | { ok: true; name: string; image: string; config: Record<string, unknown>; specHash: string }
  | { ok: false; name: string; reason: string; message: string };

/** The image reference a service runs: the images reconciler's exact tag, or the service's own image. */
export function resolveServiceImage(service: ServiceSpec, imageTags: Readonly<Record<string, string>>): string | undefined {
  if (service.buildImage) return imageTags[service.buildImage];
  if (service.image) return imageTags[service.image] ?? service.image;
  return undefined;
}

export function effectiveService(
  service: ServiceSpec,
  options: { machine: string; profile: Profile; imageTags: Readonly<Record<string, string>> },
): EffectiveService {
  const image = resolveServiceImage(service, options.imageTags);
  if (!image) {
    return {
      ok: false,
      name: service.name,
      reason: ServiceReason.ImageNotReady,
      message: `image ${service.buildImage ?? service.image ?? "(none)"} has no local tag yet`,
    };
  }
  const config: Record<string, unknown> = structuredClone(service.config);
  delete config["build"];
  config["image"] = image;
  // berth checks that the image is local before it stops anything; compose must never pull or build.
  config["pull_policy"] = "never";
  config["environment"] = serviceEnvironment(options.machine, options.profile, environmentMap(config["environment"]));
  if (service.gpu && !hasDeviceReservation(config)) addGpuReservation(config, service.gpu.count ?? 1);
  const labels: Record<string, string> = {
    ...stringMap(config["labels"]),
    [LABELS.managed]: "true",
    [LABELS.stack]: service.stack,
    [LABELS.service]: service.name,
    [LABELS.machine]: options.machine,
  };
  delete labels[LABELS.specHash];
  config["labels"] = labels;
  const hash = specHash(config);
  config["labels"] = { ...labels, [LABELS.specHash]: hash };
  return { ok: true, name: service.name, image, config, specHash: hash };
}

function stringMap(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    // compose's list form KEY=VALUE (config --format json gives maps, but be lenient).
    return Object.fromEntries(
      value
        .filter((v): v is string => typeof v === "string")
        .map((v) => [v.split("=")[0] ?? v, v.includes("=") ? v.slice(v.indexOf("=") + 1) : ""]),
    );
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]));
  }
  return {};
}

function environmentMap(value: unknown): Record<string, string | null> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null || v === undefined ? null : String(v)]));
  }
  return stringMap(value);
}

function hasDeviceReservation(config: Record<string, unknown>): boolean {
  const deploy = config["deploy"] as { resources?: { reservations?: { devices?: unknown[] } } } | undefined;
  return (deploy?.resources?.reservations?.devices?.length ?? 0) > 0;
}

function addGpuReservation(config: Record<string, unknown>, count: number): void {
  const deploy = (config["deploy"] ?? {}) as Record<string, unknown>;
  const resources = (deploy["resources"] ?? {}) as Record<string, unknown>;
  const reservations = (resources["reservations"] ?? {}) as Record<string, unknown>;
  config["deploy"] = {
    ...deploy,
    resources: { ...resources, reservations: { ...reservations, devices: [{ driver: "nvidia", count, capabilities: ["gpu"] }] } },
  };
}
