// Bench: the host policy's cost per agent pass for 200 services (evaluation + grouping), clean
// and with every service refused (violations located in their files).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DesiredState } from "../desired-state/desired-state.ts";
import { loadDesiredState } from "../desired-state/load-desired-state.ts";
import { createComposeNormalizer } from "../desired-state/normalize-compose.ts";
import { createComposeCli } from "../platform/compose-cli.ts";
import { checkHostPolicy } from "../policy/check-host-policy.ts";
import type { Policy } from "../policy/policy-schema.ts";
import type { BenchRow } from "./bench-row.ts";
import { generateFleet } from "./fleet-generator.ts";

/** Every service gets what real ones carry, so each control is looked at: binds, a volume, capabilities, options. */
function hardened(state: DesiredState, user: string | undefined): DesiredState {
  return {
    ...state,
    stacks: state.stacks.map((stack) => ({
      ...stack,
      services: stack.services.map((service) => ({
        ...service,
        config: {
          ...service.config,
          volumes: [
            { type: "bind", source: join(stack.dir, "data"), target: "/data" },
            { type: "bind", source: "/srv/data/shared", target: "/shared" },
            { type: "volume", source: "cache", target: "/cache" },
          ],
          cap_add: ["NET_BIND_SERVICE"],
          cap_drop: ["ALL"],
          security_opt: ["no-new-privileges:true", "apparmor:docker-default"],
          sysctls: { "net.ipv4.ip_unprivileged_port_start": "80" },
          ...(user ? { user } : {}),
        },
      })),
    })),
  };
}

/**
 * Median CPU time (user + system) of `runs` calls after `warmup` calls: on this shared 2-core
 * machine (load average 15–20 while helpers run) wall time is mostly waiting for a core.
 */
async function medianCpuMs(warmup: number, runs: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmup; i += 1) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export async function run(): Promise<BenchRow[]> {
  const root = await generateFleet({ services: 200, images: 10 });
  try {
    const loaded = await loadDesiredState(root, { compose: createComposeNormalizer(createComposeCli()) });
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join("; "));
    const policy = (level: Policy["level"]): Policy => ({
      level,
      hostPaths: ["/srv/data"],
      registries: ["docker.io", "ghcr.io/acme"],
      exceptions: [{ stack: "stack-0", allow: ["hostNetwork"] }],
    });
    const clean = hardened(loaded.state, "1000");
    const firstStart = performance.now();
    const check = await checkHostPolicy(policy("restricted"), clean, "pc2");
    const firstMs = performance.now() - firstStart;
    if (check.stacks.size > 0 || check.fleet.length > 0) throw new Error("the hardened fleet should pass restricted");
    const cleanMs = await medianCpuMs(10, 51, () => checkHostPolicy(policy("restricted"), clean, "pc2"));
    const rootUser = hardened(loaded.state, undefined);
    const refused = await checkHostPolicy(policy("restricted"), rootUser, "pc2");
    const refusedMs = await medianCpuMs(3, 21, () => checkHostPolicy(policy("restricted"), rootUser, "pc2"));
    return [
      {
        name: "host policy per pass, 200 services / 20 stacks, level restricted, none refused (CPU time)",
        value: cleanMs,
        unit: "ms",
        target: "< 5 ms",
        pass: cleanMs < 5,
        note: "every control and the registries allowlist looked at; median CPU time of 51 after 10 warm-up passes",
      },
      {
        name: "same, the process's first evaluation (wall time, code not yet optimised)",
        value: firstMs,
        unit: "ms",
        target: "(first pass only)",
        pass: true,
        note: "includes lazy compilation; wall time on the loaded shared machine",
      },
      {
        name: "same, every service refused (runAsRoot), violations located in their files (CPU time)",
        value: refusedMs,
        unit: "ms",
        target: "(a refused commit only)",
        pass: true,
        note: `${[...refused.stacks.values()].flat().length} violations in ${refused.stacks.size} stacks; median of 21`,
      },
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
