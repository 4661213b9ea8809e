// The host lock of a CLI command's state dir (`berth apply`, `berth build`): the same port the agent's
// reconcilers take, waiting at most --wait seconds and saying on stderr whom it waits for.
import { LockBusyError } from "../status/host-lock.ts";
import { openSharedHostLock } from "../status/shared-host-lock.ts";
import type { SharedHostLock } from "../status/shared-host-lock.ts";
import { stringFlag } from "./cli-io.ts";
import type { CliIo, CommandArgs, CommandSpec } from "./cli-io.ts";

export const DEFAULT_LOCK_WAIT_SECONDS = 600;

/** The usage line of --wait, shared by the commands that take the host lock. */
export const LOCK_WAIT_USAGE =
  `--wait SECONDS waits at most that long (default ${DEFAULT_LOCK_WAIT_SECONDS}) for the host lock ` +
  `a running agent, build or prune on the same state dir holds; exit 3 when it stays busy.`;

/** The lock of `stateDir` for `berth <command>`, or undefined (usage printed) when --wait is not a number of seconds. */
export function cliHostLock(command: string, stateDir: string, args: CommandArgs, io: CliIo): SharedHostLock | undefined {
  const waitSeconds = Number(stringFlag(args, "wait") ?? DEFAULT_LOCK_WAIT_SECONDS);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
    io.stderr(`berth ${command}: --wait must be a number of seconds, got "${stringFlag(args, "wait") ?? ""}"\n`);
    return undefined;
  }
  return openSharedHostLock(stateDir, {
    waitMs: waitSeconds * 1000,
    onWait: (holder) =>
      io.stderr(
        `berth ${command}: waiting up to ${waitSeconds} s for the host lock ` +
          `${holder ? `held by pid ${holder.pid} on ${holder.hostname} (${holder.purpose})` : "(holder unreadable)"}\n`,
      ),
  });
}

/** `spec` whose run exits 3 with the holder named when the host lock stayed busy past --wait. */
export function exitsWhenLockBusy(spec: CommandSpec): CommandSpec {
  return {
    ...spec,
    async run(args, io) {
      try {
        return await spec.run(args, io);
      } catch (error) {
        if (!(error instanceof LockBusyError)) throw error;
        io.stderr(`berth ${spec.name}: gave up waiting for the host lock: ${error.message}\n`);
        return 3;
      }
    },
  };
}
