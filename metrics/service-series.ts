// Service series: health from the engine's containers, readiness and waits from the status store.
import { LABELS } from "../platform/labels.ts";
import type { ContainerHealth, ObservedContainer } from "../platform/observed.ts";
import { getCondition } from "../status/conditions.ts";
import { parseKeyOf } from "../status/resource-key.ts";
import type { ResourceStatus } from "../status/resource-status.ts";
import type { ServiceHealthState } from "./metric-families.ts";

export type ServiceSeries = {
  stack: string;
  service: string;
  /** Undefined when the engine could not be asked. */
  health?: ServiceHealthState;
  ready: boolean;
  /** Reason of a True Waiting condition (e.g. InsufficientVRAM). */
  waiting?: string;
};

const WORST_FIRST: readonly ContainerHealth[] = ["unhealthy", "starting", "none", "healthy"];
const LIVE_STATES = new Set(["running", "paused", "restarting"]);

export function serviceKey(stack: string, service: string): string {
  return `${stack}\0${service}`;
}

/** The service's state: the worst health among its live containers; "missing" when none runs. */
export function serviceHealth(containers: readonly ObservedContainer[]): ServiceHealthState {
  const live = containers.filter((c) => LIVE_STATES.has(c.state));
  if (live.length === 0) return "missing";
  const healths = new Set(live.map((c) => (c.state === "restarting" ? "unhealthy" : c.health)));
  return WORST_FIRST.find((h) => healths.has(h)) ?? "none";
}

/**
 * The services to report: the desired services of this machine when the desired state is
 * known (else every service the status store has a record of), plus any berth-labelled
 * container still on the engine. A service in none of those has no series.
 */
export function serviceSeries(input: {
  desired?: readonly { stack: string; service: string }[];
  records: readonly ResourceStatus[];
  containers?: readonly ObservedContainer[];
}): ServiceSeries[] {
  const byService = new Map<string, ObservedContainer[]>();
  for (const c of input.containers ?? []) {
    const stack = c.labels[LABELS.stack];
    const service = c.labels[LABELS.service];
    if (!stack || !service || c.labels[LABELS.composeOneoff] === "True") continue;
    const key = serviceKey(stack, service);
    byService.set(key, [...(byService.get(key) ?? []), c]);
  }
  const recordByService = new Map<string, ResourceStatus>();
  for (const record of input.records) {
    const key = parseKeyOf("service", record.key);
    if (key) recordByService.set(serviceKey(key.stack, key.service), record);
  }
  const names = new Map<string, { stack: string; service: string }>();
  const base =
    input.desired ??
    [...recordByService.keys()].map((key) => {
      const [stack = "", service = ""] = key.split("\0");
      return { stack, service };
    });
  for (const s of base) names.set(serviceKey(s.stack, s.service), s);
  for (const [key, containers] of byService) {
    const first = containers[0];
    if (first && !names.has(key)) names.set(key, { stack: first.labels[LABELS.stack] ?? "", service: first.labels[LABELS.service] ?? "" });
  }
  return [...names.entries()].map(([key, { stack, service }]) => {
    const conditions = recordByService.get(key)?.conditions ?? [];
    const waiting = getCondition(conditions, "Waiting");
    return {
      stack,
      service,
      ...(input.containers ? { health: serviceHealth(byService.get(key) ?? []) } : {}),
      ready: getCondition(conditions, "Ready")?.status === "True",
      ...(waiting?.status === "True" ? { waiting: waiting.reason } : {}),
    };
  });
}
