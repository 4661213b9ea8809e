// Registry existence checks with the host's Docker credentials against a token-auth TLS registry
// (distribution `auth: token` + JWT token server on loopback): cold client (one token per
// repository scope) and warm client (cached tokens).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createDockerCredentials } from "../platform/docker-credentials.ts";
import { createRegistryClient } from "../reconcilers/images/registry-client.ts";
import { startLocalRegistry } from "../test/support/local-registry.ts";
import type { BenchRow } from "./bench-row.ts";
import { medianMs } from "./bench-row.ts";

const TAGS = 25;
const RUNS = 5;

export async function run(): Promise<BenchRow[]> {
  const registry = await startLocalRegistry({ auth: { username: "registry-bench", password: "registry-bench-pw", token: true } });
  const configDir = await mkdtemp(join(tmpdir(), "registry-bench-"));
  try {
    await writeFile(
      join(configDir, "config.json"),
      JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from("registry-bench:registry-bench-pw").toString("base64") } } }),
    );
    const credentials = createDockerCredentials({ configDir });
    const tags = Array.from({ length: TAGS }, (_, i) => `${registry.host}/registry-bench/repo-${i}:v1`);
    const check = async (client: ReturnType<typeof createRegistryClient>): Promise<void> => {
      const view = await client.check(registry.host, tags);
      if (view.kind !== "reachable" || (view.denied?.size ?? 0) > 0) throw new Error(`registry check failed: ${JSON.stringify(view)}`);
    };
    const cold = await medianMs(RUNS, () => check(createRegistryClient({ credentials })));
    const warmClient = createRegistryClient({ credentials });
    await check(warmClient);
    const warm = await medianMs(RUNS, () => check(warmClient));
    const tokensPerColdRun = (registry.auth?.tokenServer?.requests.length ?? 0) / (RUNS + 1);
    const load = `load average ${loadavg()[0]?.toFixed(1) ?? "?"} during the run`;
    return [
      {
        name: `existence check of ${TAGS} tags in ${TAGS} repositories, token auth over TLS, fresh client`,
        value: cold,
        unit: "ms",
        target: "≤ 1000 ms",
        pass: cold <= 1000,
        note: `${tokensPerColdRun.toFixed(0)} token requests per check (one per repository scope), concurrency 4; ${load}`,
      },
      {
        name: `the same check with the client's cached tokens`,
        value: warm,
        unit: "ms",
        target: "≤ 300 ms",
        pass: warm <= 300,
        note: `no token requests; ${load}`,
      },
    ];
  } finally {
    await rm(configDir, { recursive: true, force: true });
    await registry.destroy();
  }
}
