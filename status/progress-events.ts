// What reconcilers report while they work, for a person watching (`berth apply`, `berth build`):
// phases, build steps, pulled bytes, and one result per resource. The agent ignores them.
export type ProgressResource = { kind: "image"; name: string } | { kind: "service"; stack: string; service: string };

/** A running phase; `until` (unix ms) is the deadline shown as time left (a health wait). */
export type ProgressPhase =
  "building" | "pulling" | "starting" | "waiting for health" | "verifying" | "monitoring" | "rolling back" | "restoring";

export type ProgressEvent =
  | { type: "phase"; resource: ProgressResource; phase: ProgressPhase; until?: number }
  | { type: "steps"; resource: ProgressResource; done: number; total: number; cached: number }
  | { type: "bytes"; resource: ProgressResource; current: number; total?: number }
  | {
      type: "done";
      resource: ProgressResource;
      ok: boolean;
      /** What was done: build, pull, reuse, create, update, unchanged, … */
      action: string;
      reason: string;
      message: string;
      /** What is worth knowing about a success, short: budget breaches, a Degraded reason. */
      warnings?: string[];
      /** Measured facts worth a glance: seconds, cache-hit ratio, size. */
      facts?: { seconds?: number; cacheHitRatio?: number; sizeBytes?: number };
    };

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => undefined;

export function imageResource(name: string): ProgressResource {
  return { kind: "image", name };
}

export function serviceResource(stack: string, service: string): ProgressResource {
  return { kind: "service", stack, service };
}
