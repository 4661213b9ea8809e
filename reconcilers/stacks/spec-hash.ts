// The spec hash of a service: sha256 over its effective compose config as canonical JSON.
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every level, so equal configs give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function specHash(config: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
