// Images benchmarks: hashing a 100 MB build context, and a no-op images pass over 30 images
// against the real engine (zero BuildKit calls).
import { processEngineSelection } from "../platform/engine-selection.ts";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DesiredState, ImageSpec } from "../desired-state/desired-state.ts";
import { DEFAULT_PRUNE, DEFAULT_ROLLOUT } from "../desired-state/desired-state.ts";
import { dockerfileFacts } from "../desired-state/dockerfile-facts.ts";
import { createDockerEngine } from "../platform/docker-engine.ts";
import { openStatusStore } from "../status/status-store.ts";
import { createFileHashCache, hashContext } from "../reconcilers/images/hash-context.ts";
import { createBuildxBuilder, countingBuilder } from "../reconcilers/images/image-builder.ts";
import { createImagesReconciler } from "../reconcilers/images/images-reconciler.ts";
import type { BenchRow } from "./bench-row.ts";
import { medianMs } from "./bench-row.ts";
import { openSharedHostLock } from "../status/shared-host-lock.ts";

const execFileP = promisify(execFile);
const MB = 1024 * 1024;

async function hashRow(): Promise<BenchRow> {
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-ctx-"));
  try {
    await writeFile(join(dir, "Dockerfile"), "FROM scratch\nCOPY . /\n");
    // 100 MB: 4 large files, 96 medium files, 2,000 small ones (1 KB … 16 KB), like a real repo.
    let bytes = 0;
    for (let i = 0; i < 4; i += 1) {
      await writeFile(join(dir, `blob-${i}.bin`), randomBytes(16 * MB));
      bytes += 16 * MB;
    }
    await mkdir(join(dir, "src"));
    for (let i = 0; i < 96; i += 1) {
      await writeFile(join(dir, "src", `m-${i}.bin`), randomBytes(350 * 1024));
      bytes += 350 * 1024;
    }
    let i = 0;
    while (bytes < 100 * MB) {
      const size = 1024 * (1 + (i % 16));
      await mkdir(join(dir, "src", `d${i % 40}`), { recursive: true });
      await writeFile(join(dir, "src", `d${i % 40}`, `f-${i}.txt`), randomBytes(size));
      bytes += size;
      i += 1;
    }
    const cold = await medianMs(5, () => hashContext(dir, join(dir, "Dockerfile"), createFileHashCache()));
    const warmCache = createFileHashCache();
    await hashContext(dir, join(dir, "Dockerfile"), warmCache);
    const warm = await medianMs(5, () => hashContext(dir, join(dir, "Dockerfile"), warmCache));
    const mbPerSecond = bytes / MB / (cold / 1000);
    return {
      name: "images: hash a 100 MB build context (cold file-hash cache)",
      value: Math.round(mbPerSecond),
      unit: "MB/s",
      target: "≥ 200 MB/s",
      pass: mbPerSecond >= 200,
      note:
        `${(bytes / MB).toFixed(0)} MB in ${4 + 96 + i} files: ${cold.toFixed(0)} ms cold (median of 5, page cache warm); ` +
        `${warm.toFixed(1)} ms with the stat-keyed cache of a running agent`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function noopPassRow(): Promise<BenchRow> {
  const prefix = `berth-bench-${Math.random().toString(36).slice(2, 8)}`;
  const root = await mkdtemp(join(tmpdir(), `${prefix}-root-`));
  const stateDir = await mkdtemp(join(tmpdir(), `${prefix}-state-`));
  const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
  try {
    await execFileP("docker", ["image", "inspect", "berth-test/busybox:1"]).catch(() => {
      throw new Error("berth-test/busybox:1 is missing (test/support/busybox-image.ts builds it)");
    });
    const names = Array.from({ length: 30 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
    const images: ImageSpec[] = [];
    for (const [i, name] of names.entries()) {
      // Three hierarchies of ten: each image builds FROM the one before it.
      const parent = i % 10 === 0 ? "berth-test/busybox:1" : (names[i - 1] ?? "");
      const text = `FROM ${parent}\nLABEL bench.step="${i}"\n`;
      const dir = join(root, "images", name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "Dockerfile"), text);
      await writeFile(join(dir, "app.txt"), `image ${i}\n`);
      images.push({
        name,
        declaredIn: `images/${name}/image.yaml`,
        origin: { kind: "image" },
        context: dir,
        dockerfile: join(dir, "Dockerfile"),
        args: {},
        machines: ["bench"],
        platform: "linux/amd64",
        push: false,
        source: "auto",
        budgets: {},
        dockerfileFacts: dockerfileFacts(text, new Set(names.filter((n) => n !== name))),
      });
    }
    const state: DesiredState = {
      root,
      revision: "be0c000000000000000000000000000000000000",
      push: false,
      machines: { bench: { name: "bench", profile: "bench", hostnames: [], prune: DEFAULT_PRUNE } },
      profiles: { bench: {} },
      images,
      stacks: [],
      rollout: DEFAULT_ROLLOUT,
      resyncSeconds: 300,
      allowEmpty: false,
    };
    const reconciler = createImagesReconciler({
      engine: createDockerEngine(),
      store: await openStatusStore(stateDir),
      lock: openSharedHostLock(stateDir),
      builder,
      dockerEnv: processEngineSelection().childEnv,
    });
    const first = await reconciler.reconcile(state, "bench");
    if (!first.ok) throw new Error(`bench setup failed: ${first.outcomes.find((o) => !o.ok)?.message}`);
    builder.reset();
    await reconciler.reconcile(state, "bench");
    const ms = await medianMs(9, () => reconciler.reconcile(state, "bench"));
    const calls = builder.count();
    return {
      name: "images: no-op pass over 30 images (3 hierarchies of 10)",
      value: Number(ms.toFixed(1)),
      unit: "ms",
      target: "≤ 50 ms, 0 BuildKit calls",
      pass: ms <= 50 && calls === 0,
      note: `median of 9 passes, each: hash 30 contexts (stat cache), list engine images, plan, status unchanged; BuildKit calls: ${calls}`,
    };
  } finally {
    const { stdout } = await execFileP("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).catch(() => ({ stdout: "" }));
    const mine = stdout.split("\n").filter((ref) => ref.startsWith(`berth/${prefix}-`));
    if (mine.length > 0) await execFileP("docker", ["rmi", ...mine]).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  return [await hashRow(), await noopPassRow()];
}
