// Why rollouts to an image wait while the image itself is ready: an enforced budget is breached
// (BudgetEnforced) or the vulnerability gate holds it (VulnerabilitiesFound, ScanFailed).
export type ImageHold = { reason: string; message: string };

/** One image's holds as one: the first reason, every message. */
export function mergeHolds(holds: readonly (ImageHold | undefined)[]): ImageHold | undefined {
  const present = holds.filter((h): h is ImageHold => h !== undefined);
  const first = present[0];
  return first ? { reason: first.reason, message: present.map((h) => h.message).join("; ") } : undefined;
}
