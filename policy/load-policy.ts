// Reads the host policy: `--policy FILE`, else /etc/berth/policy.yaml when it exists, else the
// baseline default; problems name the file, line and field like every other file berth reads.
import { stat } from "node:fs/promises";
import type { Problem } from "../desired-state/problem.ts";
import { issuesToProblems, parseYamlText, readFileLimited } from "../desired-state/read-document.ts";
import { DEFAULT_POLICY, policySchema } from "./policy-schema.ts";
import type { Policy } from "./policy-schema.ts";

export const DEFAULT_POLICY_FILE = "/etc/berth/policy.yaml";

export type PolicyLoad = { ok: true; policy: Policy; file?: string } | { ok: false; problems: Problem[] };

/** `file` given: it must exist. Otherwise `defaultFile` when it exists, else DEFAULT_POLICY (level baseline). */
export async function loadPolicy(file: string | undefined, defaultFile: string = DEFAULT_POLICY_FILE): Promise<PolicyLoad> {
  const path =
    file ??
    ((await stat(defaultFile).then(
      () => true,
      () => false,
    ))
      ? defaultFile
      : undefined);
  if (path === undefined) return { ok: true, policy: DEFAULT_POLICY };
  const read = await readFileLimited(path, path);
  if (!read.ok) return read;
  const parsed = parseYamlText(read.text, path);
  if (!parsed.ok) return parsed;
  // An empty file is the default policy, like an empty mapping.
  const result = policySchema.safeParse(parsed.doc.value ?? {});
  if (!result.success) return { ok: false, problems: issuesToProblems(result.error.issues, path, parsed.doc) };
  return { ok: true, policy: result.data, file: path };
}
