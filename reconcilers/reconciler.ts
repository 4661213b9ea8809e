// The reconciler contract (controller-runtime's Reconciler and Result): one call per queued key,
// errors returned as values, and the map by key kind the work queue dispatches through.
import type { KeyOf } from "../status/resource-key.ts";

/** The key kinds the work queue runs (status-only kinds such as `image` and `service` are never queued). */
export type WorkKind = "git" | "source" | "images" | "stack" | "prune";
export type WorkKey = KeyOf<WorkKind>;

/**
 * What one reconcile of a key came to:
 * - `done`: it ran to the end; `ready` says whether the resource is Ready (a pass is a success only
 *   when all of its resources are), `requeueAfterMs` asks to look again later without a change;
 * - `transient`: the engine, compose or the network failed; the queue retries with backoff;
 * - `terminal`: only a change (desired state, policy, a manual action) can help; no retry until the key is added again.
 */
export type Outcome =
  | { kind: "done"; ready: boolean; requeueAfterMs?: number }
  | { kind: "transient"; reason: string; message: string }
  | { kind: "terminal"; reason: string; message: string };

export type Reconciler<K extends WorkKind> = {
  reconcile(key: KeyOf<K>, signal: AbortSignal): Promise<Outcome>;
};

/** One reconciler per work kind: the queue dispatches every key to the one of its kind. */
export type ReconcilerMap = { readonly [K in WorkKind]: Reconciler<K> };

export function done(ready = true, requeueAfterMs?: number): Outcome {
  return requeueAfterMs === undefined ? { kind: "done", ready } : { kind: "done", ready, requeueAfterMs };
}

export function transient(reason: string, message: string): Outcome {
  return { kind: "transient", reason, message };
}

export function terminal(reason: string, message: string): Outcome {
  return { kind: "terminal", reason, message };
}

/** Whether the outcome leaves its resource Ready. */
export function isReady(outcome: Outcome): boolean {
  return outcome.kind === "done" && outcome.ready;
}

/** Runs `key` through the reconciler of its kind; a reconciler that throws is a transient failure, never lost. */
export async function reconcileKey(reconcilers: ReconcilerMap, key: WorkKey, signal: AbortSignal): Promise<Outcome> {
  try {
    return await dispatch(reconcilers, key, signal);
  } catch (error) {
    return transient("ReconcileFailed", error instanceof Error ? error.message : String(error));
  }
}

function dispatch(reconcilers: ReconcilerMap, key: WorkKey, signal: AbortSignal): Promise<Outcome> {
  switch (key.kind) {
    case "git":
      return reconcilers.git.reconcile(key, signal);
    case "source":
      return reconcilers.source.reconcile(key, signal);
    case "images":
      return reconcilers.images.reconcile(key, signal);
    case "stack":
      return reconcilers.stack.reconcile(key, signal);
    case "prune":
      return reconcilers.prune.reconcile(key, signal);
  }
}
