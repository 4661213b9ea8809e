// Images berth does not build, on the real engine and a local registry: a no-op pass over 50
// services, 25 of them third-party `pinned`, asks the registry nothing; a resync with those 25 on
// `track` asks once per distinct reference, all side by side.
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../platform/logger.ts";
import { createRegistryClient } from "../reconcilers/images/registry-client.ts";
import type { DigestLookup } from "../reconcilers/images/registry-client.ts";
import type { StackContext } from "../reconcilers/stacks/stack-context.ts";
import { reconcileStack } from "../reconcilers/stacks/stack-reconciler.ts";
import { createImageResolver, lookUpDigests } from "../reconcilers/stacks/third-party-images.ts";
import type { ImageResolver } from "../reconcilers/stacks/third-party-images.ts";
import { noEvents } from "../status/reconcile-events.ts";
import { startLocalRegistry } from "../test/support/local-registry.ts";
import { createHarness, docker, withServices } from "../test/support/stacks-harness.ts";
import type { ServiceInput } from "../test/support/stacks-harness.ts";
import { medianMs } from "./bench-row.ts";
import type { BenchRow } from "./bench-row.ts";

const SERVICES = 50;
const THIRD_PARTY = 25;

export async function run(): Promise<BenchRow[]> {
  const [h, registry] = await Promise.all([createHarness("bench-tp"), startLocalRegistry()]);
  try {
    const v1 = await h.buildVersion("v1", { productionInterval: true });
    const refs = Array.from({ length: THIRD_PARTY }, (_, i) => `${registry.host}/${h.prefix}/vendor${pad(i)}:1`);
    for (const ref of refs) {
      await docker("tag", v1, ref);
      await docker("push", "--quiet", ref);
      await docker("rmi", ref);
    }
    // 25 services run third-party references (pulled on the first pass), 25 a berth-built image.
    const services: Record<string, ServiceInput> = {};
    for (let i = 0; i < SERVICES; i += 1)
      services[`s${pad(i)}`] = { image: refs[i] ?? v1, rollout: { healthTimeoutSeconds: 120, monitorSeconds: 0 } };
    const stack = withServices(await h.stack("tp", services), (s) => (s.image === v1 ? { ...s, buildImage: "bench-app" } : s));

    const client = createRegistryClient();
    let requests = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let pulls = 0;
    const counting = {
      async resolveDigest(ref: string): Promise<DigestLookup> {
        requests += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await client.resolveDigest(ref);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const resolver = (): ImageResolver =>
      createImageResolver({
        machine: "bench",
        logger: silentLogger(),
        events: { ...noEvents, imagePulled: () => void (pulls += 1) },
        engine: h.engine,
        registry: counting,
      });
    const contextFor = (s: typeof stack): Promise<StackContext> => h.context([s], { imageTags: { "bench-app": v1 } });

    const first = await reconcileStack(stack.name, { ...(await contextFor(stack)), imageResolver: resolver() });
    if (!first.ready)
      throw new Error(
        `bench stack did not become ready: ${first.services
          .filter((s) => !s.ready)
          .map((s) => s.message)
          .join("; ")}`,
      );
    const firstPulls = pulls;
    await sleep(25_000); // past the start period: the host settles to its steady state

    // No-op pass (a fresh resolver each pass, as the agent's).
    const pinned = await contextFor(stack);
    requests = 0;
    pulls = 0;
    let changed = 0;
    const noopMs = await medianMs(5, async () => {
      changed += (await reconcileStack(stack.name, { ...pinned, imageResolver: resolver() })).changed;
    });
    const noopRequests = requests + pulls;

    // Resync with the 25 on `track` (the tags did not move: nothing changes, 25 look-ups).
    const tracked = withServices(stack, (s) => (s.buildImage ? s : { ...s, update: "track" }));
    const tracking = await contextFor(tracked);
    requests = 0;
    maxInFlight = 0;
    const t = performance.now();
    const resync = await reconcileStack(tracked.name, { ...tracking, imageResolver: resolver() });
    const resyncMs = performance.now() - t;
    const resyncRequests = requests;
    const resyncParallel = maxInFlight;
    if (resync.changed !== 0 || !resync.ready) throw new Error("the tracked resync changed something although no tag moved");

    // Look-up time of the 25 references, side by side and one after another, alternating.
    const parallel: number[] = [];
    const sequential: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      parallel.push(await medianMs(1, () => lookUpDigests(refs, (ref) => client.resolveDigest(ref))));
      sequential.push(
        await medianMs(1, async () => {
          for (const ref of refs) await client.resolveDigest(ref);
        }),
      );
    }
    const parallelMs = median(parallel);
    const sequentialMs = median(sequential);

    return [
      {
        name: "no-op pass, 50 services (25 third-party pinned): registry requests",
        value: noopRequests,
        unit: "requests",
        target: "0",
        pass: noopRequests === 0 && changed === 0,
        note:
          `digest look-ups + pulls over 5 passes; median pass ${round(noopMs)} ms; the first pass pulled ${firstPulls} ` +
          `references; load average ${loadavg()[0]?.toFixed(1)}`,
      },
      {
        name: "track resync, 25 services: digest look-ups",
        value: resyncRequests,
        unit: "requests",
        target: `${THIRD_PARTY} (one per distinct reference)`,
        pass: resyncRequests === THIRD_PARTY && resyncParallel === THIRD_PARTY,
        note: `${resyncParallel} in flight at once; whole pass ${round(resyncMs)} ms, nothing changed`,
      },
      {
        name: "digest look-up time, 25 references (local registry)",
        value: round(parallelMs),
        unit: "ms",
        target: "≤ the same look-ups one after another",
        pass: parallelMs <= sequentialMs,
        note:
          `side by side, median of 9; one after another: ${round(sequentialMs)} ms (median of 9, alternating); a loopback ` +
          `registry on a loaded 2-core host is CPU-bound, so side by side gains only against a remote registry's round trips; ` +
          `load average ${loadavg()[0]?.toFixed(1)}`,
      },
    ];
  } finally {
    await h.cleanup();
    await registry.destroy();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function pad(i: number): string {
  return String(i).padStart(2, "0");
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
