// What `berth apply` and `berth build` show while they work, pure: a progress model folded from
// the reconcilers' progress events, live lines for what still runs, one summary line per result.
import prettyBytes from "pretty-bytes";
import type { ProgressEvent, ProgressPhase, ProgressResource } from "../status/progress-events.ts";

type DoneEvent = Extract<ProgressEvent, { type: "done" }>;

export type ProgressEntry = {
  id: string;
  label: string;
  startedAt: number;
  phase?: ProgressPhase;
  until?: number;
  steps?: { done: number; total: number; cached: number };
  bytes?: { current: number; total?: number };
  done?: DoneEvent & { at: number };
};

/** Entries in the order they first appeared. */
export type ProgressModel = { entries: readonly ProgressEntry[] };

export const emptyProgress: ProgressModel = { entries: [] };

export function resourceId(resource: ProgressResource): string {
  return resource.kind === "image" ? `image ${resource.name}` : `service ${resource.stack}/${resource.service}`;
}

export function applyProgress(model: ProgressModel, event: ProgressEvent, now: number): ProgressModel {
  const id = resourceId(event.resource);
  // A resource that finished and reports again (a second pass) begins a fresh entry.
  const found = model.entries.find((e) => e.id === id && !e.done);
  const base: ProgressEntry = found ?? { id, label: id, startedAt: now };
  let next: ProgressEntry;
  switch (event.type) {
    case "phase":
      next = { ...base, phase: event.phase, ...(event.until !== undefined ? { until: event.until } : {}) };
      if (event.until === undefined) delete next.until;
      break;
    case "steps":
      next = { ...base, steps: { done: event.done, total: event.total, cached: event.cached } };
      break;
    case "bytes":
      next = { ...base, bytes: { current: event.current, ...(event.total !== undefined ? { total: event.total } : {}) } };
      break;
    case "done":
      next = { ...base, done: { ...event, at: now } };
      break;
  }
  const entries = found ? model.entries.map((e) => (e === found ? next : e)) : [...model.entries, next];
  return { entries };
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** One line per resource still at work: phase, steps, bytes, elapsed or time left. */
export function renderLive(model: ProgressModel, now: number, width = 100): string[] {
  const frame = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? "-";
  return model.entries
    .filter((e) => !e.done)
    .map((e) => fit(`${frame} ${e.label}  ${[e.phase ?? "working", ...details(e, now)].join("  ")}`, width));
}

function details(entry: ProgressEntry, now: number): string[] {
  const out: string[] = [];
  if (entry.steps && entry.steps.total > 0)
    out.push(`step ${entry.steps.done}/${entry.steps.total}${entry.steps.cached > 0 ? ` (${entry.steps.cached} cached)` : ""}`);
  if (entry.bytes)
    out.push(
      entry.bytes.total ? `${prettyBytes(entry.bytes.current)} / ${prettyBytes(entry.bytes.total)}` : prettyBytes(entry.bytes.current),
    );
  out.push(entry.until !== undefined ? `${seconds(Math.max(0, entry.until - now))} left` : seconds(now - entry.startedAt));
  return out;
}

/** The line a finished resource collapses to. */
export function summaryLine(entry: ProgressEntry): string {
  const done = entry.done;
  if (!done) return `${entry.label}  ${entry.phase ?? "working"}`;
  const facts: string[] = [];
  const measured = done.facts?.seconds ?? (entry.phase ? (done.at - entry.startedAt) / 1000 : undefined);
  if (measured !== undefined) facts.push(`${measured.toFixed(1)} s`);
  if (entry.steps && entry.steps.total > 0) facts.push(`${entry.steps.done}/${entry.steps.total} steps, ${entry.steps.cached} cached`);
  else if (done.facts?.cacheHitRatio !== undefined) facts.push(`cache ${Math.round(done.facts.cacheHitRatio * 100)} %`);
  if (done.facts?.sizeBytes !== undefined) facts.push(prettyBytes(done.facts.sizeBytes));
  if (entry.bytes) facts.push(`pulled ${prettyBytes(entry.bytes.current)}`);
  const head = `${done.ok ? "✓" : "✗"} ${entry.label}  ${done.action} ${done.reason}`;
  const tail = done.ok ? (done.warnings?.length ? `  ⚠ ${done.warnings.join("; ")}` : "") : `: ${done.message.split("\n")[0] ?? ""}`;
  return `${head}${facts.length > 0 ? ` (${facts.join(", ")})` : ""}${tail}`;
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}
