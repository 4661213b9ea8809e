// What `berth status` and GET /api/v1/status show: resources, their conditions and the
// services' live state, built from the state dir and one look at the engine (pure).
import { LABELS } from "../platform/labels.ts";
import type { ObservedContainer } from "../platform/observed.ts";
import type { Condition } from "../status/conditions.ts";
import { ServiceReason } from "../status/reasons.ts";
import { parseKey } from "../status/resource-key.ts";
import type { ResourceStatus, SourceStatus } from "../status/resource-status.ts";
import { compareText } from "../platform/compare-text.ts";

export type ServiceRow = {
  stack: string;
  service: string;
  image: string;
  health: string;
  conditions: Condition[];
  appliedRevision?: string;
  lastRollback?: string;
};

/** The engine this host's berth drives: its endpoint, what selected it, and its server version (or why it did not answer). */
export type EngineView = { endpoint: string; source: string; serverVersion?: string; error?: string };

export type StatusView = {
  machine: string;
  engine?: EngineView;
  ready: boolean;
  observedRevision?: string;
  lastAppliedRevision?: string;
  source?: SourceStatus;
  services: ServiceRow[];
  images: Array<{ image: string; tag?: string; action?: string; conditions: Condition[] }>;
  stacks: Array<{ stack: string; conditions: Condition[] }>;
  other: ResourceStatus[];
};

export function buildStatusView(input: {
  machine: string;
  ready: boolean;
  statuses: readonly ResourceStatus[];
  containers: readonly ObservedContainer[];
  engine?: EngineView;
}): StatusView {
  const services: ServiceRow[] = [];
  const images: StatusView["images"] = [];
  const stacks: StatusView["stacks"] = [];
  const other: ResourceStatus[] = [];
  let source: SourceStatus | undefined;
  for (const status of [...input.statuses].sort((a, b) => compareText(a.key, b.key))) {
    const key = parseKey(status.key);
    if (status.kind === "service" && key?.kind === "service") {
      const { stack, service } = key;
      const live = input.containers.filter((c) => c.labels[LABELS.stack] === stack && c.labels[LABELS.service] === service);
      const running = live.find((c) => c.state === "running") ?? live[0];
      const rolledBack = status.conditions.find((c) => c.type === "Degraded" && c.reason === ServiceReason.RolledBack);
      services.push({
        stack,
        service,
        image: running?.image ?? "-",
        health: running ? (running.state === "running" ? running.health : running.state) : "missing",
        conditions: status.conditions,
        ...(status.lastAppliedRevision ? { appliedRevision: status.lastAppliedRevision } : {}),
        ...(rolledBack ? { lastRollback: `${rolledBack.lastTransitionTime}: ${rolledBack.message}` } : {}),
      });
    } else if (status.kind === "image" && key?.kind === "image") {
      images.push({
        image: `${key.machine}/${key.name}`,
        ...(status.build ? { tag: status.build.tag, action: status.build.action } : {}),
        conditions: status.conditions,
      });
    } else if (status.kind === "stack" && key?.kind === "stack") {
      stacks.push({ stack: key.name, conditions: status.conditions });
    } else if (status.kind === "source") {
      source = status;
    } else {
      other.push(status);
    }
  }
  return {
    machine: input.machine,
    ...(input.engine ? { engine: input.engine } : {}),
    ready: input.ready,
    ...(source?.observedRevision ? { observedRevision: source.observedRevision } : {}),
    ...(source?.lastAppliedRevision ? { lastAppliedRevision: source.lastAppliedRevision } : {}),
    ...(source ? { source } : {}),
    services,
    images,
    stacks,
    other,
  };
}

function short(revision: string | undefined): string {
  if (!revision) return "-";
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

function conditionSummary(conditions: readonly Condition[]): string {
  const notable = conditions.filter((c) => (c.type === "Ready" ? true : c.status === "True"));
  return notable.map((c) => `${c.type}=${c.status}(${c.reason})`).join(" ") || "-";
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** One screen for a person: what runs, what is wrong, and why. */
export function formatStatus(view: StatusView): string {
  const lines: string[] = [];
  const sourceProblem =
    view.source?.conditions.find((c) => c.status === "True" && (c.type === "Stalled" || c.type === "Degraded")) ??
    view.source?.conditions.find((c) => c.type === "SourceVerified" && c.status === "False");
  lines.push(
    `machine ${view.machine}  ready ${view.ready ? "yes" : "no"}  desired ${short(view.observedRevision)}  applied ` +
      `${short(view.lastAppliedRevision)}`,
  );
  if (view.engine)
    lines.push(
      `engine ${view.engine.source}  ` +
        `${view.engine.serverVersion ? `docker ${view.engine.serverVersion}` : `not answering: ${view.engine.error ?? "unknown"}`}`,
    );
  if (sourceProblem)
    lines.push(`desired state: ${sourceProblem.type}=${sourceProblem.status} ${sourceProblem.reason}: ${sourceProblem.message}`);
  lines.push("");
  if (view.services.length > 0) {
    lines.push(
      ...table([
        ["SERVICE", "IMAGE", "HEALTH", "APPLIED", "CONDITIONS"],
        ...view.services.map((s) => [
          `${s.stack}/${s.service}`,
          s.image,
          s.health,
          short(s.appliedRevision),
          conditionSummary(s.conditions),
        ]),
      ]),
    );
    const messages = view.services.flatMap((s) =>
      s.conditions
        .filter((c) => c.status === "True" && c.type !== "Ready" && c.message)
        .map((c) => `  ${s.stack}/${s.service} ${c.type}/${c.reason}: ${c.message}`),
    );
    if (messages.length > 0) lines.push("", ...messages);
  } else {
    lines.push("no services");
  }
  if (view.images.length > 0) {
    // Ready counts as ready; what else is true of a Ready image (a budget, a registry that was down) is a warning.
    const ready = view.images.filter((i) => i.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    const notReady = view.images.filter((i) => !ready.includes(i));
    lines.push("", `images: ${view.images.length}, ${ready.length} ready${notReady.length > 0 ? `, ${notReady.length} not ready` : ""}`);
    for (const image of notReady) {
      for (const c of image.conditions.filter((c) => c.type === "Ready" || c.status === "True"))
        lines.push(`  ${image.image} ${c.type}=${c.status}/${c.reason}: ${c.message}`);
    }
    const warnings = ready.flatMap((i) =>
      i.conditions.filter((c) => c.type !== "Ready" && c.status === "True").map((c) => `  ${i.image} ${c.type}/${c.reason}: ${c.message}`),
    );
    if (warnings.length > 0) lines.push(`warnings: ${warnings.length}`, ...warnings);
  }
  return `${lines.join("\n")}\n`;
}
