// Stacks benchmarks on the real engine, each next to the same work done by `docker compose up -d`:
// a no-op pass over 50 services, and the agent's own overhead for a one-service change.
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../platform/clock.ts";
import type { ComposeCli } from "../platform/compose-cli.ts";
import type { DockerEngine } from "../platform/docker-engine.ts";
import { reconcileStack } from "../reconcilers/stacks/stack-reconciler.ts";
import { effectiveComposePath } from "../reconcilers/stacks/effective-compose.ts";
import { createHarness, withServices } from "../test/support/stacks-harness.ts";
import type { ServiceInput } from "../test/support/stacks-harness.ts";
import { medianMs } from "./bench-row.ts";
import type { BenchRow } from "./bench-row.ts";

const SERVICES = 50;

export async function run(): Promise<BenchRow[]> {
  const h = await createHarness("bench");
  try {
    // Health checks as production services set them (every 30 s; every 1 s while starting): with
    // the tests' 1–2 s checks, 50 containers alone keep a 2-core machine's load average near 50.
    const [v1, v2] = await Promise.all([
      h.buildVersion("v1", { productionInterval: true }),
      h.buildVersion("v2", { productionInterval: true }),
    ]);
    const services: Record<string, ServiceInput> = {};
    for (let i = 0; i < SERVICES; i += 1)
      services[`s${String(i).padStart(2, "0")}`] = { image: v1, rollout: { healthTimeoutSeconds: 120, monitorSeconds: 0 } };
    const stack = await h.stack("bench", services);
    const first = await reconcileStack(stack.name, await h.context([stack]));
    if (!first.ready)
      throw new Error(
        `bench stack did not become ready: ${first.services
          .filter((s) => !s.ready)
          .map((s) => s.message)
          .join("; ")}`,
      );
    const project = { name: stack.name, directory: stack.dir, files: [effectiveComposePath(h.stateDir, stack.name)] };
    await sleep(25_000); // past the start period: the host settles to its steady state

    // No-op pass: berth (one batched look) against `docker compose up -d` on the same file.
    const base = await h.context([stack]);
    let engineCalls = 0;
    const countingEngine: DockerEngine = {
      ...base.engine,
      observe: (signal) => ((engineCalls += 2), base.engine.observe(signal)),
      listContainers: (f) => ((engineCalls += 1), base.engine.listContainers(f)),
      inspectContainer: (id) => ((engineCalls += 1), base.engine.inspectContainer(id)),
    };
    const berthNoop = await medianMs(9, () => reconcileStack(stack.name, { ...base, engine: countingEngine }));
    const callsPerPass = engineCalls / 9;
    const observeMs = await medianMs(9, () => base.engine.observe());
    const composeNoop = await medianMs(5, () => h.compose.run(project, ["up", "-d"]));

    // One-service change: total minus compose's own work and the health wait.
    let composeMs = 0;
    let waitMs = 0;
    const timedCompose: ComposeCli = {
      ...base.compose,
      run: async (p, args, o) => {
        const t = performance.now();
        try {
          return await base.compose.run(p, args, o);
        } finally {
          composeMs += performance.now() - t;
        }
      },
    };
    let engineMs = 0;
    let storeMs = 0;
    const timed =
      <A extends unknown[], R>(fn: (...a: A) => Promise<R>, add: (ms: number) => void) =>
      async (...a: A): Promise<R> => {
        const t = performance.now();
        try {
          return await fn(...a);
        } finally {
          add(performance.now() - t);
        }
      };
    const toEngine = (ms: number): void => void (engineMs += ms);
    const timedEngine: DockerEngine = {
      ...base.engine,
      observe: timed(base.engine.observe, toEngine),
      listContainers: timed(base.engine.listContainers, toEngine),
      inspectImage: timed(base.engine.inspectImage, toEngine),
      tagImage: timed(base.engine.tagImage, toEngine),
      removeImage: timed(base.engine.removeImage, toEngine),
      inspectContainer: timed(base.engine.inspectContainer, (ms) => void (waitMs += ms)),
    };
    const timedClock: Clock = {
      now: base.clock.now,
      sleep: async (ms, signal) => {
        const t = performance.now();
        await base.clock.sleep(ms, signal);
        waitMs += performance.now() - t;
      },
    };
    const overheads: number[] = [];
    const composeChange: number[] = [];
    const breakdown: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const image = i % 2 === 0 ? v2 : v1;
      const desired = withServices(stack, (s) => (s.name === "s17" ? { ...s, image } : s));
      const plain = await h.context([desired], { engine: timedEngine, compose: timedCompose, clock: timedClock });
      const store = plain.store;
      const ctx = {
        ...plain,
        store: {
          ...store,
          dir: store.dir,
          loadProblems: store.loadProblems,
          get: store.get,
          all: store.all,
          put: timed(store.put, (ms) => void (storeMs += ms)),
          remove: store.remove,
          putIntent: timed(store.putIntent, (ms) => void (storeMs += ms)),
          clearIntent: timed(store.clearIntent, (ms) => void (storeMs += ms)),
          intents: store.intents,
        },
      };
      composeMs = 0;
      waitMs = 0;
      engineMs = 0;
      storeMs = 0;
      const t = performance.now();
      const result = await reconcileStack(stack.name, ctx);
      const total = performance.now() - t;
      if (!result.ready || result.changed !== 1) throw new Error("one-service change did not roll out");
      overheads.push(total - composeMs - waitMs);
      composeChange.push(composeMs);
      breakdown.push(`engine calls ${round(engineMs)} ms, state-dir writes ${round(storeMs)} ms`);
    }
    const runs = overheads.map((ms, i) => `${round(ms)} ms (${breakdown[i] ?? ""})`).join("; ");
    overheads.sort((a, b) => a - b);
    composeChange.sort((a, b) => a - b);
    const overhead = overheads[1] ?? Number.NaN;

    return [
      {
        name: "stacks no-op pass, 50 services (berth)",
        value: round(berthNoop),
        unit: "ms",
        target: `≤ ${round(composeNoop / 10)} ms (1/10 of compose)`,
        pass: berthNoop <= composeNoop / 10,
        note:
          `docker compose up -d no-op on the same 50 services: ${round(composeNoop)} ms (median of 5); berth median of 9, of ` +
          `which engine observe ${round(observeMs)} ms; load average ${loadavg()[0]?.toFixed(1)}`,
      },
      {
        name: "stacks no-op pass, engine API calls",
        value: callsPerPass,
        unit: "calls",
        target: "≤ 3",
        pass: callsPerPass <= 3,
        note: "observe() = list containers + list images",
      },
      {
        name: "stacks one-service change, agent overhead",
        value: round(overhead),
        unit: "ms",
        target: "≤ 200 ms",
        pass: overhead <= 200,
        note:
          `excludes compose (median ${round(composeChange[1] ?? Number.NaN)} ms, the same docker compose up the change ` +
          `needs) and the health wait; median of 3; runs: ${runs}; services check health every 30 s (1 s while starting); load ` +
          `average ${loadavg()[0]?.toFixed(1)}`,
      },
    ];
  } finally {
    await h.cleanup();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
