// What reconcilers report as it happens (for counters and histograms); metrics implements it.
export type ReconcileResult = "success" | "failure" | "noop";

export type ReconcileEvents = {
  reconciled(kind: "images" | "stacks" | "prune" | "pass", result: ReconcileResult, seconds: number): void;
  imageBuilt(image: string, machine: string, result: "success" | "failure"): void;
  imagePulled(image: string, machine: string, result: "success" | "failure"): void;
  rollout(stack: string, service: string, result: "success" | "failure" | "rolled_back"): void;
  rollback(stack: string, service: string, reason: string): void;
  pruned(removedImages: number, reclaimedBytes: number): void;
};

export const noEvents: ReconcileEvents = {
  reconciled: () => undefined,
  imageBuilt: () => undefined,
  imagePulled: () => undefined,
  rollout: () => undefined,
  rollback: () => undefined,
  pruned: () => undefined,
};
