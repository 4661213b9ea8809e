// The crash test's child process (run with tsx): one stack reconcile that the test SIGKILLs, or
// that kills itself right after its swap records a given phase (argv: input file, phase).
import { readFileSync } from "node:fs";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";
import type { SwapPhase } from "../../status/swap-intent.ts";
import { stacksTestContext } from "./stacks-harness.ts";

/** What the test hands the child: the state dir, the desired state and the stack to reconcile. */
export type CrashChildInput = { stateDir: string; state: DesiredState; stack: string };

const [inputPath, crashAt] = process.argv.slice(2) as [string, SwapPhase | undefined];
const input = JSON.parse(readFileSync(inputPath, "utf8")) as CrashChildInput;
const ctx = await stacksTestContext(
  { engine: createDockerEngine(), compose: createComposeCli(), lock: openSharedHostLock(input.stateDir), stateDir: input.stateDir },
  input.state,
);
const putIntent = ctx.store.putIntent.bind(ctx.store);
ctx.store.putIntent = async (intent) => {
  await putIntent(intent);
  if (intent.phase === crashAt) process.kill(process.pid, "SIGKILL");
};
await reconcileStack(input.stack, ctx);
