// The swap state machine: one step from each recorded phase (Intended → Created → Healthy →
// CutOver → Done | RolledBack), each new phase persisted before the next step; live swaps and
// crash recovery both run it. Effects sit behind SwapSteps; the transitions here are pure.
import type { RollbackEntry } from "../../status/resource-status.ts";
import type { IntentAttachment, Restore, SwapFailure, SwapIntent } from "../../status/swap-intent.ts";

export type Failure = SwapFailure;

export type SwapOutcome =
  | { kind: "rolled-out"; entry: RollbackEntry }
  | { kind: "rolled-back"; failure: Failure; restored: boolean; restoreMessage?: string }
  | { kind: "failed"; failure: Failure };

export type FinishedIntent = Extract<SwapIntent, { phase: "Done" | "RolledBack" }>;
export type UnfinishedIntent = Exclude<SwapIntent, FinishedIntent>;
export type IntentAt<P extends SwapIntent["phase"]> = Extract<SwapIntent, { phase: P }>;

export type HealthResult = { kind: "healthy" } | ({ kind: "failed" } & Failure);

/** What creating the new container found: its id, and (start-first) the networks of both containers. */
export type CreatedFacts = { container: string; createdAt: number; attachments: IntentAttachment[]; fromAttachments: IntentAttachment[] };

/** The effects of each step; one implementation over the engine (swapSteps in service-swap.ts). Every step may run again after a crash. */
export type SwapSteps = {
  /** Records the intent durably (the status store's intent record). */
  persist(intent: SwapIntent): Promise<void>;
  /** Creates the new container (recreate: compose replaces the old one; start-first: kept out of the service's networks). */
  create(intent: IntentAt<"Intended">): Promise<({ kind: "created" } & CreatedFacts) | ({ kind: "failed" } & Failure)>;
  /** Starts the new container if needed and waits for its health gate. */
  awaitHealthy(intent: IntentAt<"Created">): Promise<HealthResult>;
  /** Puts the healthy new container in the old one's place (recreate: compose already did). */
  cutOver(intent: IntentAt<"Healthy">): Promise<void>;
  /** Watches the new container through the monitor window. */
  monitor(intent: IntentAt<"CutOver">): Promise<HealthResult>;
  /** Stops and removes the old container (start-first); returns the new container's image id. */
  retire(intent: IntentAt<"CutOver">): Promise<string>;
  /** Undoes an unfinished swap: the previous version serves again (or there is none). */
  rollBack(intent: UnfinishedIntent, failure: Failure): Promise<Restore>;
};

export function isFinished(intent: SwapIntent): intent is FinishedIntent {
  return intent.phase === "Done" || intent.phase === "RolledBack";
}

/** Carries out the step from the recorded phase and persists the phase it reached. */
export async function advance(steps: SwapSteps, intent: UnfinishedIntent): Promise<SwapIntent> {
  const next = await step(steps, intent);
  await steps.persist(next);
  return next;
}

/** Advances until Done or RolledBack; a swap begins at Intended, a recovered one wherever it stopped. */
export async function runSwap(steps: SwapSteps, intent: SwapIntent): Promise<FinishedIntent> {
  let now = intent;
  while (!isFinished(now)) now = await advance(steps, now);
  return now;
}

async function step(steps: SwapSteps, intent: UnfinishedIntent): Promise<SwapIntent> {
  switch (intent.phase) {
    case "Intended": {
      const made = await steps.create(intent);
      return made.kind === "created" ? created(intent, made) : rolledBack(steps, intent, made);
    }
    case "Created": {
      const health = await steps.awaitHealthy(intent);
      return health.kind === "healthy" ? { ...intent, phase: "Healthy" } : rolledBack(steps, intent, health);
    }
    case "Healthy":
      // Checks of the healthy new container before it takes the service's traffic go here, before the cut-over.
      await steps.cutOver(intent);
      return { ...intent, phase: "CutOver" };
    case "CutOver": {
      const watched = await steps.monitor(intent);
      if (watched.kind !== "healthy") return rolledBack(steps, intent, watched);
      return finished(intent, { phase: "Done", imageId: await steps.retire(intent) });
    }
  }
}

function created(intent: IntentAt<"Intended">, facts: CreatedFacts): SwapIntent {
  const { container, createdAt } = facts;
  return intent.strategy === "recreate"
    ? { ...intent, phase: "Created", container, createdAt }
    : { ...intent, phase: "Created", container, createdAt, attachments: facts.attachments, fromAttachments: facts.fromAttachments };
}

async function rolledBack(steps: SwapSteps, intent: UnfinishedIntent, failure: Failure): Promise<SwapIntent> {
  const why = { reason: failure.reason, message: failure.message };
  return finished(intent, { phase: "RolledBack", failure: why, restore: await steps.rollBack(intent, why) });
}

/** The finished record keeps what every phase knows and drops what the steps needed. */
function finished(
  intent: SwapIntent,
  end: { phase: "Done"; imageId: string } | { phase: "RolledBack"; failure: Failure; restore: Restore },
): FinishedIntent {
  const { stack, service, revision, startedAt, to, record } = intent;
  const base = { stack, service, revision, startedAt, to, record };
  return intent.strategy === "recreate"
    ? { ...base, strategy: "recreate", ...end }
    : { ...base, strategy: "start-first", from: intent.from, ...end };
}

/** What a finished swap means for the service's record. */
export function outcomeOf(intent: FinishedIntent, now: number): SwapOutcome {
  if (intent.phase === "Done")
    return {
      kind: "rolled-out",
      entry: {
        imageId: intent.imageId,
        tag: "",
        revision: intent.record.revision,
        specHash: intent.to.specHash,
        config: intent.record.config,
        recordedAt: now,
      },
    };
  const { failure, restore } = intent;
  if (restore.kind === "nothing") return { kind: "failed", failure };
  return restore.kind === "restored"
    ? { kind: "rolled-back", failure, restored: true }
    : { kind: "rolled-back", failure, restored: false, restoreMessage: restore.message };
}

/** A container of the service as recovery sees it. */
export type ServiceContainer = { id: string; specHash: string | undefined; state: string; created: number };

/** The container carrying a spec hash: the running one, else the newest. */
export function pickContainer<C extends ServiceContainer>(containers: readonly C[], specHash: string): C | undefined {
  const all = containers.filter((c) => c.specHash === specHash);
  return all.find((c) => c.state === "running") ?? [...all].sort((a, b) => b.created - a.created)[0];
}

/**
 * Recovery of a swap that stopped at Intended, where the new container may be half made. Recreate
 * adopts a container compose finished (it replaced the old one); otherwise nothing is left to
 * finish and the plan redoes the swap (start-first first removes its unconfirmed new container).
 */
export function resumeIntended(
  intent: IntentAt<"Intended">,
  containers: readonly ServiceContainer[],
): { kind: "discard"; remove: string[] } | { kind: "resume"; intent: IntentAt<"Created"> } {
  if (intent.strategy === "start-first") {
    const remove = containers.filter((c) => c.specHash === intent.to.specHash && c.id !== intent.from).map((c) => c.id);
    return { kind: "discard", remove };
  }
  const to = pickContainer(containers, intent.to.specHash);
  if (!to) return { kind: "discard", remove: [] };
  return { kind: "resume", intent: { ...intent, phase: "Created", container: to.id, createdAt: intent.startedAt } };
}

/**
 * An intent record of an older berth (no phase) is left to the plan, except the new container of a
 * start-first swap: it may be out of the service's networks, so it goes (the old one still serves).
 */
export function olderRecordLeftovers(record: unknown, containers: readonly ServiceContainer[]): string[] {
  const old = (typeof record === "object" && record !== null ? record : {}) as Record<string, unknown>;
  if (old["strategy"] !== "start-first" || typeof old["toSpecHash"] !== "string") return [];
  return containers.filter((c) => c.specHash === old["toSpecHash"] && c.id !== old["fromContainerId"]).map((c) => c.id);
}
