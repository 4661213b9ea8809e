// The status invariants in the e2e harnesses: every record a reconcile writes, and every state dir
// an agent leaves, must hold them (status/check-status-invariants.ts).
import { checkAllStatusInvariants, checkStatusInvariants } from "../../status/check-status-invariants.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";

/** A store that checks each record after writing it: a broken invariant throws, and stays in `violations`. */
export function invariantCheckedStore(store: StatusStore, violations: string[]): StatusStore {
  return Object.assign(Object.create(store) as StatusStore, {
    async put(status: Parameters<StatusStore["put"]>[0]): Promise<void> {
      await store.put(status);
      const written = store.get(status.key);
      const problems = written ? checkStatusInvariants(written) : [`${status.key}: not in the store after put`];
      if (problems.length === 0) return;
      violations.push(...problems);
      throw new Error(`status invariants broken: ${problems.join("; ")}`);
    },
  });
}

/** The invariants the records of a state dir break. */
export async function stateDirViolations(stateDir: string): Promise<string[]> {
  return checkAllStatusInvariants((await openStatusStore(stateDir)).all());
}

/** Throws when a state dir's records (or records seen earlier, `seen`) break an invariant. */
export async function expectStatusInvariants(stateDirs: Iterable<string>, seen: readonly string[] = []): Promise<void> {
  const problems = [...seen];
  for (const dir of stateDirs) problems.push(...(await stateDirViolations(dir)));
  if (problems.length > 0) throw new Error(`status invariants broken:\n${[...new Set(problems)].join("\n")}`);
}
