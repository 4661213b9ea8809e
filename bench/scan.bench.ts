// Vulnerability gate benchmark: what the scan-cache hit path adds to a no-op images pass over 30
// images on the real engine (a stand-in `trivy` answers the first pass; later passes run no scanner).
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadDesiredState } from "../desired-state/load-desired-state.ts";
import { createDockerEngine } from "../platform/docker-engine.ts";
import { processEngineSelection } from "../platform/engine-selection.ts";
import { silentLogger } from "../platform/logger.ts";
import { createVulnerabilityScanner } from "../platform/vulnerability-scanner.ts";
import { createImagesReconciler } from "../reconcilers/images/images-reconciler.ts";
import { scanSettingsFor } from "../desired-state/scan-schema.ts";
import { createScanGate } from "../reconcilers/images/scan-gate.ts";
import { openSharedHostLock } from "../status/shared-host-lock.ts";
import { openStatusStore } from "../status/status-store.ts";
import type { BenchRow } from "./bench-row.ts";
import { medianMs } from "./bench-row.ts";

const execFileP = promisify(execFile);
const IMAGES = 30;

async function scanHitRow(): Promise<BenchRow> {
  const prefix = `vuln-bench-${Math.random().toString(36).slice(2, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  try {
    const root = join(dir, "desired");
    const bin = join(dir, "bin");
    await mkdir(join(root, "profiles"), { recursive: true });
    await mkdir(bin);
    await writeFile(join(root, "berth.yaml"), "version: 1\nmachines:\n  bench: { profile: bench }\n");
    await writeFile(join(root, "profiles", "bench.json"), "{}");
    for (let i = 0; i < IMAGES; i += 1) {
      const image = join(root, "images", `${prefix}-${String(i).padStart(2, "0")}`);
      await mkdir(image, { recursive: true });
      await writeFile(join(image, "image.yaml"), "source: build\n");
      await writeFile(join(image, "Dockerfile"), `FROM berth-test/busybox:1\nLABEL bench.image="${i}"\n`);
    }
    await writeFile(
      join(bin, "trivy"),
      `#!/bin/sh\necho "$1" >> "${bin}/calls"\ncase "$1" in\n` +
        `  version) echo '{"VulnerabilityDB":{"Version":2,"UpdatedAt":"2026-12-01T06:00:00Z"}}' ;;\n` +
        `  image) echo '{"SchemaVersion":2,"Results":[]}' ;;\nesac\n`,
    );
    await chmod(join(bin, "trivy"), 0o755);
    const loaded = await loadDesiredState(root);
    if (!loaded.ok) throw new Error(`bench fleet does not load: ${loaded.problems[0]?.message}`);
    const plain = loaded.state;
    const gated = { ...plain, scan: { failOn: ["critical" as const] } };
    const childEnv = processEngineSelection().childEnv;
    const dockerEnv = { ...childEnv, PATH: `${bin}:${childEnv["PATH"] ?? ""}` };
    const reconcilerIn = async (name: string) => {
      const stateDir = join(dir, name);
      return createImagesReconciler({
        engine: createDockerEngine(),
        store: await openStatusStore(stateDir),
        lock: openSharedHostLock(stateDir),
        dockerEnv,
      });
    };
    const without = await reconcilerIn("state-plain");
    const withGate = await reconcilerIn("state-gated");
    for (const [reconciler, state] of [
      [without, plain],
      [withGate, gated],
    ] as const) {
      const first = await reconciler.reconcile(state, "bench");
      if (!first.ok) throw new Error(`bench setup failed: ${first.outcomes.find((o) => !o.ok)?.message}`);
      await reconciler.reconcile(state, "bench");
    }
    const scannerRuns = async (): Promise<number> => (await readFile(join(bin, "calls"), "utf8")).split("\n").length - 1;
    const runsBefore = await scannerRuns();
    // Interleaved, so load on the machine hits both alike.
    const plainMs: number[] = [];
    const gatedMs: number[] = [];
    for (let i = 0; i < 11; i += 1) {
      plainMs.push(await medianMs(1, () => without.reconcile(plain, "bench")));
      gatedMs.push(await medianMs(1, () => withGate.reconcile(gated, "bench")));
    }
    const runsInPasses = (await scannerRuns()) - runsBefore;
    const fastest = (xs: number[]): number => Math.min(...xs);
    // The whole passes differ by less than this machine's noise, so the hit path is also timed
    // alone: the gate over the 30 images' cached results, as the gated pass calls it.
    const records = (await openStatusStore(join(dir, "state-gated")))
      .all()
      .flatMap((r) => (r.kind === "image" && r.build ? [r.build] : []));
    const settings = scanSettingsFor(gated.scan, undefined);
    if (!settings || records.length !== IMAGES)
      throw new Error(`bench setup: ${records.length} image records, settings ${String(settings)}`);
    const gate = createScanGate({
      scanner: createVulnerabilityScanner({ env: dockerEnv }),
      stateDir: join(dir, "state-gated"),
      now: () => new Date(),
      logger: silentLogger(),
    });
    const hitPass = async (): Promise<void> => {
      for (const build of records) {
        const scan = await gate.assess({ name: build.tag, ref: build.tag, imageId: build.imageId }, settings);
        if (scan.verdict.condition.reason !== "NoVulnerabilities") throw new Error(`not a cache hit: ${scan.verdict.condition.message}`);
      }
    };
    await hitPass();
    const perImage = (await medianMs(21, hitPass)) / IMAGES;
    return {
      name: `scan: cache-hit path of the vulnerability gate in a no-op images pass (${IMAGES} images)`,
      value: Number(perImage.toFixed(3)),
      unit: "ms/image",
      target: "≤ 1 ms per image",
      pass: perImage <= 1 && runsInPasses === 0,
      note:
        `the gate alone over ${IMAGES} cached results, median of 21; whole no-op passes, fastest of 11 interleaved: ` +
        `${fastest(plainMs).toFixed(1)} ms without the gate, ${fastest(gatedMs).toFixed(1)} ms with it; ` +
        `scanner runs in those passes: ${runsInPasses}`,
    };
  } finally {
    const { stdout } = await execFileP("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).catch(() => ({ stdout: "" }));
    const mine = stdout.split("\n").filter((ref) => ref.startsWith(`berth/${prefix}-`));
    if (mine.length > 0) await execFileP("docker", ["rmi", ...mine]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  return [await scanHitRow()];
}
