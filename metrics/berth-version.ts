// berth's own version, read once from package.json (source tree or dist/), "unknown" if absent.
import { readFileSync } from "node:fs";

function readVersion(): string {
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (parsed.name === "berth-agent" && typeof parsed.version === "string") return parsed.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}

export const BERTH_VERSION = readVersion();
