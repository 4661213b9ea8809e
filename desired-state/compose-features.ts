// Compose features berth refuses at validation, each with the file, line and why (the rest of
// compose runs as compose runs it; docs/stacks.md has the table).
import type { Problem } from "./problem.ts";
import { isRecord } from "../platform/is-record.ts";

type Located = { relFile: string; lineOf: (path: readonly PropertyKey[]) => number | undefined };

/** Problems for the normalised model `model` of the compose file `file`. */
export function unsupportedComposeFeatures(model: Record<string, unknown>, file: Located): Problem[] {
  const problems: Problem[] = [];
  const at = (path: readonly string[], message: string): void =>
    void problems.push({ file: file.relFile, line: file.lineOf(path) ?? file.lineOf(path.slice(0, 2)), field: path.join("."), message });
  for (const [service, body] of Object.entries(isRecord(model["services"]) ? model["services"] : {})) {
    if (!isRecord(body) || !isRecord(body["depends_on"])) continue;
    for (const [dependency, spec] of Object.entries(body["depends_on"])) {
      if (isRecord(spec) && spec["condition"] === "service_completed_successfully") {
        at(
          ["services", service, "depends_on", dependency, "condition"],
          "service_completed_successfully is not supported: berth runs long-lived services and treats a container that exits as " +
            "failed; run the one-off job before the stack starts (e.g. in the service's entrypoint)",
        );
      }
    }
  }
  for (const kind of ["secrets", "configs"] as const) {
    for (const [name, spec] of Object.entries(isRecord(model[kind]) ? model[kind] : {})) {
      if (!isRecord(spec)) continue;
      if (spec["external"] === true) at([kind, name, "external"], `external ${kind} exist only in swarm mode; use file:`);
      else if (spec["environment"] !== undefined)
        at([kind, name, "environment"], `the value would come from the agent's environment, not from the desired state; use file:`);
    }
  }
  return problems;
}
