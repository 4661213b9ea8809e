// What every status record must satisfy (tests check it after every reconcile): the kind its key
// names, Ready present, abnormal conditions only while True, the kind's PascalCase reasons, revisions.
import { isAbnormal } from "./finalize-status.ts";
import { isReasonOf } from "./reasons.ts";
import { parseKey } from "./resource-key.ts";
import type { ResourceStatus } from "./resource-status.ts";

const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/;

/** The invariants `record` breaks, one line each naming the key ([] when it holds them all). */
export function checkStatusInvariants(record: ResourceStatus): string[] {
  const problems: string[] = [];
  const fail = (message: string): void => void problems.push(`${record.key}: ${message}`);
  const kind = parseKey(record.key)?.kind;
  if (kind !== record.kind) fail(`kind "${record.kind}" but the key names ${kind ? `a ${kind}` : "no resource"}`);
  const types = record.conditions.map((c) => c.type);
  for (const type of new Set(types)) if (types.filter((t) => t === type).length > 1) fail(`condition ${type} appears twice`);
  if (!types.includes("Ready")) fail("no Ready condition");
  for (const c of record.conditions) {
    if (isAbnormal(c.type) && c.status !== "True") fail(`${c.type}=${c.status} is kept (abnormal conditions are present only while True)`);
    if (!PASCAL_CASE.test(c.reason)) fail(`${c.type} reason "${c.reason}" is not PascalCase`);
    else if (!isReasonOf(record.kind, c.reason)) fail(`${c.type} reason "${c.reason}" is not a ${record.kind} reason (status/reasons.ts)`);
  }
  if (record.kind === "image" || record.kind === "stack" || record.kind === "source") {
    if (record.lastAppliedRevision !== undefined && record.observedRevision === undefined)
      fail(`lastAppliedRevision ${record.lastAppliedRevision} without an observedRevision`);
  }
  if (record.kind === "image" || record.kind === "source") {
    const ready = record.conditions.some((c) => c.type === "Ready" && c.status === "True");
    const settled = !record.conditions.some((c) => (c.type === "Reconciling" || c.type === "Stalled") && c.status === "True");
    if (ready && settled && record.observedRevision !== undefined && record.lastAppliedRevision !== record.observedRevision)
      fail(`Ready=True but revision ${record.observedRevision} observed and ${record.lastAppliedRevision ?? "none"} applied`);
  }
  return problems;
}

/** The invariants a set of records breaks (e.g. a state dir's `store.all()`). */
export function checkAllStatusInvariants(records: readonly ResourceStatus[]): string[] {
  return records.flatMap(checkStatusInvariants);
}
