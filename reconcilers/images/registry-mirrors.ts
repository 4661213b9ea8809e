// The registry look of a pass with `registry.mirrors`: the primary first; while it does not answer
// (no connection, timeout, 5xx — not 401/404), the mirrors in order, with the answers in the
// primary's names so the planner and the pulled images keep the references berth expects.
import { mirrorReference } from "./plan-images.ts";
import type { RegistryView } from "./plan-images.ts";
import { registryHost } from "./registry-client.ts";
import type { RegistryClient } from "./registry-client.ts";

export type RegistryTargets = { registry: string; registryMirrors?: readonly string[] };

/** Asks the primary about `tags`; when it is unreachable, the first mirror that answers stands in for it. */
export async function checkRegistries(
  client: Pick<RegistryClient, "check">,
  targets: RegistryTargets,
  tags: readonly string[],
): Promise<RegistryView> {
  const primary = await client.check(registryHost(targets.registry), tags);
  if (primary.kind !== "unreachable" || tags.length === 0) return primary;
  const failures: string[] = [];
  for (const prefix of targets.registryMirrors ?? []) {
    const mirror = { prefix, primary: targets.registry, primaryMessage: primary.message };
    const byMirrorRef = new Map(tags.map((tag) => [mirrorReference(tag, mirror), tag]));
    const view = await client.check(registryHost(prefix), [...byMirrorRef.keys()]);
    if (view.kind !== "reachable") {
      failures.push(`mirror ${prefix}: ${view.kind === "unreachable" ? view.message : "none"}`);
      continue;
    }
    const primaryOf = (ref: string): string => byMirrorRef.get(ref) ?? ref;
    const present = new Set([...view.present].map(primaryOf));
    const denied = view.denied ? new Map([...view.denied].map(([ref, why]) => [primaryOf(ref), why])) : undefined;
    return { kind: "reachable", host: primary.host, present, ...(denied ? { denied } : {}), mirror };
  }
  return failures.length === 0 ? primary : { ...primary, message: `${primary.message}; ${failures.join("; ")}` };
}
