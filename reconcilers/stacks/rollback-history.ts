// Rollback history of a service, pure: the last N healthy versions, newest first, and their tags.
import type { RollbackEntry } from "../../status/resource-status.ts";

/** Local-only repository holding a service's rollback tags, e.g. berth-rollback/shop-web. */
export function rollbackRepository(stack: string, service: string): string {
  return `berth-rollback/${`${stack}-${service}`.toLowerCase().replace(/[^a-z0-9._-]/g, "-")}`;
}

export function rollbackTag(stack: string, service: string, position: number): string {
  return `${rollbackRepository(stack, service)}:rollback-${position}`;
}

/** The tag that keeps the image of the version running now, so an automatic rollback needs no registry. */
export function currentTag(stack: string, service: string): string {
  return `${rollbackRepository(stack, service)}:current`;
}

/**
 * Pushes the version that just stopped being current onto the history: newest first, at most
 * `limit` entries, one entry per (image, spec hash). Tags are renumbered to match positions.
 */
export function pushHistory(
  history: readonly RollbackEntry[],
  previous: RollbackEntry,
  limit: number,
  stack: string,
  service: string,
): { history: RollbackEntry[]; dropped: RollbackEntry[] } {
  const rest = history.filter((e) => !(e.imageId === previous.imageId && e.specHash === previous.specHash));
  const all = [previous, ...rest].map((e, i) => ({ ...e, tag: rollbackTag(stack, service, i + 1) }));
  return { history: all.slice(0, limit), dropped: all.slice(limit) };
}
