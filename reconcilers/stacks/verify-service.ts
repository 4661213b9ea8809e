// The `x-berth.verify` step: runs each command inside the new container once it passed its health
// gate, before it takes over or is kept; the first failure (non-zero exit, no exit in time) fails the swap.
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import type { VerifyCommand } from "../../desired-state/compose-extension-schema.ts";
import type { Clock } from "../../platform/clock.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { Logger } from "../../platform/logger.ts";
import { serviceResource } from "../../status/progress-events.ts";
import type { ProgressSink } from "../../status/progress-events.ts";

export type VerifyVerdict = { kind: "healthy" } | { kind: "failed"; reason: "VerifyFailed"; message: string };

/** How much of a failing command's output the condition message carries (its end, where the error is). */
export const VERIFY_OUTPUT_CHARS = 300;

/** A string runs with /bin/sh -c (as compose's `CMD-SHELL`); a list is the argv. */
export function verifyArgv(command: VerifyCommand): string[] {
  return typeof command === "string" ? ["/bin/sh", "-c", command] : [...command];
}

/** `verify "cmd" exited 1: <last lines of output>`, one line, bounded. */
export function verifyFailureMessage(command: VerifyCommand, result: { exitCode: number; output: string } | { error: string }): string {
  const label = JSON.stringify(typeof command === "string" ? command : command.join(" "));
  const what = "error" in result ? `${label} failed: ${result.error}` : `${label} exited ${result.exitCode}`;
  const text = "error" in result ? "" : result.output.replace(/\s+/g, " ").trim();
  const tail = text.length > VERIFY_OUTPUT_CHARS ? `…${text.slice(-VERIFY_OUTPUT_CHARS)}` : text;
  return `verify ${what}${tail ? `: ${tail}` : ""}`;
}

/** Called once from the swap path, right after the new container's health gate (a no-op without `x-berth.verify`). */
export async function verifyContainer(
  deps: { engine: DockerEngine; clock: Clock; logger: Logger; progress?: ProgressSink | undefined },
  service: Pick<ServiceSpec, "name" | "stack" | "verify" | "rollout">,
  containerId: string,
): Promise<VerifyVerdict> {
  if (!service.verify) return { kind: "healthy" };
  deps.progress?.({ type: "phase", resource: serviceResource(service.stack, service.name), phase: "verifying" });
  const timeoutMs = service.rollout.healthTimeoutSeconds * 1000;
  for (const command of service.verify ?? []) {
    const started = deps.clock.now();
    const result = await deps.engine
      .exec(containerId, verifyArgv(command), { timeoutMs })
      .catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
    const ok = !("error" in result) && result.exitCode === 0;
    deps.logger.info(
      {
        stack: service.stack,
        service: service.name,
        ok,
        ms: deps.clock.now() - started,
        ...("error" in result ? {} : { exitCode: result.exitCode }),
      },
      "service verify command ran",
    );
    if (!ok) return { kind: "failed", reason: "VerifyFailed", message: verifyFailureMessage(command, result) };
  }
  return { kind: "healthy" };
}
