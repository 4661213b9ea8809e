// Operator overrides on a service's status: `berth retry` clears a failed rollout or a pin and
// re-pulls an image berth does not build, `berth rollback --to N` pins the service to an older
// healthy version.
import type { ServiceStatus } from "../../status/resource-status.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { serviceKey } from "./service-status.ts";

export type OverrideResult = { ok: true; message: string; status: ServiceStatus } | { ok: false; message: string };

export function parseServiceRef(ref: string | undefined): { stack: string; service: string } | undefined {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(ref ?? "");
  return match?.[1] && match[2] ? { stack: match[1], service: match[2] } : undefined;
}

export async function retryService(store: StatusStore, target: { stack: string; service: string; now?: number }): Promise<OverrideResult> {
  const { stack, service } = target;
  const now = new Date(target.now ?? Date.now());
  const status = store.get(serviceKey(stack, service));
  if (!status) return { ok: false, message: `no status for ${stack}/${service} in ${store.dir}` };
  const { failed, pinned, ...rest } = status;
  // An image berth does not build is pulled again: a pinned tag may move on retry.
  const image = rest.image ? { ...rest.image, refresh: true as const } : undefined;
  if (!failed && !pinned && !image)
    return { ok: true, message: `${stack}/${service} has no failed rollout or pin; nothing to retry`, status };
  const next: ServiceStatus = { ...rest, ...(image ? { image } : {}), updatedAt: now.toISOString() };
  await store.put(next);
  const what = [failed ? `failed revision ${failed.revision.slice(0, 7)}` : "", pinned ? "pin" : ""].filter(Boolean).join(" and ");
  const pull = image ? `pulls ${image.ref} again and ` : "";
  return {
    ok: true,
    message: `${stack}/${service}: ${what ? `cleared ${what}; ` : ""}the next pass ${pull}tries the desired version again`,
    status: next,
  };
}

export async function pinServiceRollback(
  store: StatusStore,
  target: { stack: string; service: string; to: number; now: number },
): Promise<OverrideResult> {
  const { stack, service, to } = target;
  const now = new Date(target.now);
  const status = store.get(serviceKey(stack, service));
  if (!status) return { ok: false, message: `no status for ${stack}/${service} in ${store.dir}` };
  const history = status.history ?? [];
  const entry = history[to - 1];
  if (!entry) return { ok: false, message: `${stack}/${service} has ${history.length} rollback version(s); --to ${to} does not exist` };
  const desiredSpecHash = status.failed?.specHash ?? status.current?.specHash;
  if (!desiredSpecHash) return { ok: false, message: `${stack}/${service} has never run healthily; nothing to pin against` };
  const next: ServiceStatus = {
    ...status,
    pinned: { imageId: entry.imageId, tag: entry.tag, revision: entry.revision, specHash: entry.specHash, desiredSpecHash },
    updatedAt: now.toISOString(),
  };
  await store.put(next);
  return {
    ok: true,
    message:
      `${stack}/${service}: pinned to rollback-${to} (revision ${entry.revision.slice(0, 7)}) until the desired state ` +
      `changes or \`berth retry\``,
    status: next,
  };
}
