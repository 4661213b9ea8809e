// What berth sees of the engine in one batched look: containers and images as plain data.
export type ContainerHealth = "healthy" | "unhealthy" | "starting" | "none";

export type ObservedContainer = {
  id: string;
  name: string;
  /** The image reference the container was created from. */
  image: string;
  imageId: string;
  labels: Record<string, string>;
  /** Engine state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  health: ContainerHealth;
  /** Unix seconds. */
  created: number;
  /** Engine's human status, e.g. "Up 3 minutes (healthy)". */
  status: string;
};

export type ObservedImage = {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  labels: Record<string, string>;
  sizeBytes: number;
  /** Unix seconds. */
  created: number;
};

export type Observed = {
  containers: ObservedContainer[];
  images: ObservedImage[];
  /** Unix milliseconds when the look was taken. */
  takenAt: number;
};

/** Health as the engine's status text says it (list calls carry no State.Health). */
export function healthFromStatus(status: string): ContainerHealth {
  if (status.includes("(healthy)")) return "healthy";
  if (status.includes("(unhealthy)")) return "unhealthy";
  if (status.includes("(health: starting)")) return "starting";
  return "none";
}
