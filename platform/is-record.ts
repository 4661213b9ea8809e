// The one test for "a plain mapping" (not null, not an array) when reading YAML or JSON data.
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
