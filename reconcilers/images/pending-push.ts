// Pushes owed to a registry that did not answer when the image was built: which images owe one
// (their PushPending condition), when to try again, and which local tags of the built image go.
import { getCondition } from "../../status/conditions.ts";
import type { Condition } from "../../status/conditions.ts";
import type { BuildFacts } from "../../status/resource-status.ts";

/** What an image's status record says about a push it owes. */
type PushRecord = { conditions: readonly Condition[]; build?: BuildFacts };

const FIRST_RETRY_MS = 15_000;
const MAX_RETRY_MS = 5 * 60_000;

/** The image this status owes the registry (the exact id it built), or undefined. */
export function owedPush(status: PushRecord | undefined): { imageId: string; tag: string; inputHash: string } | undefined {
  if (!status?.build || getCondition(status.conditions, "PushPending")?.status !== "True") return undefined;
  return { imageId: status.build.imageId, tag: status.build.tag, inputHash: status.build.inputHash };
}

/** Backoff of the next attempt: as long as the push has been pending so far, between 15 s and 5 min. */
export function pushRetryDelayMs(pendingSince: number, now: number): number {
  return Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, now - pendingSince));
}

/** The soonest retry over every PushPending condition of `statuses`, or undefined when none owes a push. */
export function nextPushRetryMs(statuses: readonly (PushRecord | undefined)[], now: number): number | undefined {
  const delays = statuses.flatMap((status) => {
    const pending = status && owedPush(status) ? getCondition(status.conditions, "PushPending") : undefined;
    return pending ? [pushRetryDelayMs(Date.parse(pending.lastTransitionTime), now)] : [];
  });
  return delays.length > 0 ? Math.min(...delays) : undefined;
}

/** True when docker's push error says the registry did not answer (worth retrying), not that it refused. */
export function registryDidNotAnswer(text: string): boolean {
  return /connection refused|dial tcp|i\/o timeout|no such host|timeout exceeded|TLS handshake timeout|EOF$|50[234] /im.test(text);
}

/** The local tags of the built image under its repository (content and human tag; not the moving `latest`). */
export function tagsToPush(imageId: string, repository: string, images: readonly { id: string; repoTags: readonly string[] }[]): string[] {
  const image = images.find((i) => i.id === imageId);
  return (image?.repoTags ?? []).filter((tag) => tag.startsWith(`${repository}:`) && !/:latest(-|$)/.test(tag)).sort();
}
