// A service swap in progress as the state dir records it: the phase it reached (Intended → Created →
// Healthy → CutOver → Done | RolledBack) and exactly what that phase knows, per strategy.

export type SwapPhase = SwapIntent["phase"];

export const SWAP_PHASES: readonly SwapPhase[] = ["Intended", "Created", "Healthy", "CutOver", "Done", "RolledBack"];

/** A network the container is attached to, with its DNS aliases there. */
export type IntentAttachment = { network: string; aliases: string[] };

export type SwapFailure = { reason: string; message: string };

/** How a rollback ended: the previous version serves again, it does not, or there was none. */
export type Restore = { kind: "restored" } | { kind: "not-restored"; message: string } | { kind: "nothing" };

/** What every phase knows: the service, the version it goes to, and when the swap began. */
type IntentBase = {
  stack: string;
  service: string;
  /** The desired revision the swap belongs to. */
  revision: string;
  startedAt: number;
  /** What runs: the spec hash and the config written to the effective compose file. */
  to: { specHash: string; config: Record<string, unknown> };
  /** What Done records as the service's current version (a held version keeps its own revision and config). */
  record: { revision: string; config: Record<string, unknown> };
};

type Finished = { phase: "Done"; imageId: string } | { phase: "RolledBack"; failure: SwapFailure; restore: Restore };

/** The phases in which the new container exists and the swap is not finished, each with what it knows. */
type Made<Known> = ({ phase: "Created" } & Known) | ({ phase: "Healthy" } & Known) | ({ phase: "CutOver" } & Known);

/** Recreate: compose replaces the old container; the new one serves as soon as it is created. */
export type RecreateIntent = IntentBase & { strategy: "recreate" } & (
    | { phase: "Intended" }
    /** `createdAt`: when the new container was created, the start of its health wait. */
    | Made<{ container: string; createdAt: number }>
    | Finished
  );

/**
 * Start-first: the old container (`from`) serves until the cut-over; the new one is kept out of the
 * service's networks (`attachments`) until then, and the old one's networks (`fromAttachments`) are
 * recorded before anything touches them, so a rollback can restore them.
 */
export type StartFirstIntent = IntentBase & { strategy: "start-first"; from: string } & (
    | { phase: "Intended" }
    | Made<{ container: string; createdAt: number; attachments: IntentAttachment[]; fromAttachments: IntentAttachment[] }>
    | Finished
  );

export type SwapIntent = RecreateIntent | StartFirstIntent;

/** A record written by this version of berth (older records have no phase). */
export function isSwapIntent(value: unknown): value is SwapIntent {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    SWAP_PHASES.includes(record["phase"] as SwapPhase) &&
    (record["strategy"] === "recreate" || (record["strategy"] === "start-first" && typeof record["from"] === "string")) &&
    typeof record["to"] === "object" &&
    typeof record["record"] === "object"
  );
}
