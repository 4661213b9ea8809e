// The `source` status record, the host's pass record: how the git, source and pass steps write it.
import type { Clock } from "../../platform/clock.ts";
import { setCondition } from "../../status/conditions.ts";
import type { Condition } from "../../status/conditions.ts";
import { formatKey } from "../../status/resource-key.ts";
import type { SourceStatus } from "../../status/resource-status.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { SourceReason } from "../../status/reasons.ts";

export const SOURCE_STATUS_KEY = formatKey({ kind: "source" });

export type ConditionChange = Omit<Condition<SourceReason>, "lastTransitionTime">;

export type SourceRecord = {
  get(): SourceStatus | undefined;
  /** Merges `change(previous)` into the record (a new record when there is none). */
  update(change: (previous: SourceStatus) => Partial<SourceStatus>): Promise<void>;
  /** `conditions` with each of `next` set, transition times from the clock. */
  withConditions(conditions: Condition<SourceReason>[], ...next: ConditionChange[]): Condition<SourceReason>[];
};

export function sourceStatus(store: StatusStore, clock: Clock): SourceRecord {
  const key = SOURCE_STATUS_KEY;
  return {
    get: () => store.get({ kind: "source" }),
    async update(change) {
      const previous = store.get({ kind: "source" }) ?? {
        kind: "source",
        key,
        conditions: [],
        updatedAt: new Date(clock.now()).toISOString(),
      };
      await store.put({ ...previous, ...change(previous), kind: "source", key, updatedAt: new Date(clock.now()).toISOString() });
    },
    withConditions: (conditions, ...next) => next.reduce((acc, c) => setCondition(acc, c, new Date(clock.now())), conditions),
  };
}
