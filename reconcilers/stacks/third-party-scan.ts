// The vulnerability gate on images berth does not build: each `image:` service's pinned image is
// scanned with the same gate as a built one (scan cache, verdict, x-berth.scan over berth.yaml's)
// before a rollout to it; a hold makes that rollout wait exactly as a built image's hold does.
import { scanSettingsFor } from "../../desired-state/scan-schema.ts";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createVulnerabilityScanner } from "../../platform/vulnerability-scanner.ts";
import { ServiceReason } from "../../status/reasons.ts";
import type { ImageHold } from "../images/image-hold.ts";
import { createScanGate } from "../images/scan-gate.ts";
import type { ScanGate } from "../images/scan-gate.ts";
import type { ImageDecision } from "./plan-third-party.ts";
import type { StackContext } from "./stack-context.ts";

export type ThirdPartyScans = {
  /** The image a service runs as (its effective `image:`) → why rollouts to it wait. */
  holds: Map<string, ImageHold>;
  /** Services held because their image's scan failed (looked at again with backoff). */
  scanFailed: string[];
};

/** A gate over the scanner on this process's PATH, for callers that pass none (tests, benches). */
export function defaultScanGate(ctx: Pick<StackContext, "store" | "clock" | "logger">): ScanGate {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return createScanGate({
    scanner: createVulnerabilityScanner({ env }),
    stateDir: ctx.store.dir,
    now: () => new Date(ctx.clock.now()),
    logger: ctx.logger,
  });
}

export async function scanThirdPartyImages(
  ctx: Pick<StackContext, "state" | "store" | "clock" | "logger" | "scanGate">,
  stack: StackSpec,
  decisions: ReadonlyMap<string, ImageDecision>,
): Promise<ThirdPartyScans> {
  const holds = new Map<string, ImageHold>();
  const scanFailed: string[] = [];
  let gate = ctx.scanGate;
  for (const service of stack.services) {
    const decision = decisions.get(service.name);
    const settings = decision?.kind === "use" ? scanSettingsFor(ctx.state.scan, service.scan) : undefined;
    if (decision?.kind !== "use" || !settings) continue;
    gate ??= defaultScanGate(ctx);
    const { image } = decision;
    const scan = await gate.assess({ name: image.ref, ref: image.digest ?? image.ref, imageId: image.imageId }, settings);
    const hold = scan.verdict.hold;
    if (!hold) continue;
    holds.set(decision.runAs, hold);
    if (hold.reason === ServiceReason.ScanFailed) scanFailed.push(service.name);
  }
  return { holds, scanFailed };
}
