// Real-engine test of pulls through the Engine API from a local registry: the bytes of a pull reach
// the progress events (and the progress display) of the services waiting for it, and a pull whose
// stream ends with an error line (a corrupted layer) fails with the engine's message.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyProgress, emptyProgress, summaryLine } from "../../controller/progress-view.ts";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import type { ProgressEvent } from "../../status/progress-events.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";
import { createHarness, docker } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

const PAD_BYTES = 6 * 1024 * 1024;
const execFileP = promisify(execFile);

describe("pulls through the Engine API", () => {
  let h: Harness;
  let registry: LocalRegistry;

  beforeAll(async () => {
    [h, registry] = await Promise.all([createHarness("perf-pull"), startLocalRegistry()]);
  });

  afterAll(async () => {
    await h?.cleanup();
    await registry?.destroy();
  });

  /**
   * Pushes `ref`: a web version's files plus `padBytes` of random bytes in one layer. Imported, not
   * built, so that no build cache keeps the layer once the host removes the image: the pull downloads it.
   */
  async function publishPadded(name: string, padBytes: number): Promise<string> {
    const base = await h.buildVersion(name);
    const context = join(h.dir, `padded-${name}`);
    await mkdir(context, { recursive: true });
    await writeFile(join(context, "pad"), randomBytes(padBytes));
    const rootfs = join(context, "rootfs.tar");
    const container = await docker("create", base);
    await docker("export", "-o", rootfs, container);
    await docker("rm", container);
    await execFileP("tar", ["-rf", rootfs, "-C", context, "pad"]);
    const ref = `${registry.host}/${h.prefix}/padded-${name}:1`;
    await docker("import", "-c", 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]', rootfs, ref);
    await docker("push", "--quiet", ref);
    await docker("rmi", ref);
    return ref;
  }

  it("reports the bytes of a pull as progress of the service waiting for it, up to the layers' total", async () => {
    const ref = await publishPadded("bytes", PAD_BYTES);
    const stack = await h.stack("bytes", { web: { image: ref } });
    const events: ProgressEvent[] = [];
    const ctx = await h.context([stack], { progress: (event) => void events.push(event) });

    const result = await reconcileStack(stack.name, ctx);

    expect(result.services[0]).toMatchObject({ action: "create", ready: true });
    const bytes = events.flatMap((e) => (e.type === "bytes" && e.resource.kind === "service" && e.resource.service === "web" ? [e] : []));
    expect(bytes.length).toBeGreaterThan(1);
    const currents = bytes.map((e) => e.current);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
    const last = bytes.at(-1);
    expect(last?.total).toBeGreaterThan(PAD_BYTES);
    expect(last?.current).toBe(last?.total);
    // The display folds them into the service's line: "pulled 6.3 MB".
    const model = events.reduce((m, e) => applyProgress(m, e, 0), emptyProgress);
    const entry = model.entries.find((e) => e.id === `service ${stack.name}/web`);
    expect(entry && summaryLine(entry)).toMatch(/pulled [\d.]+ MB/);
  });

  it("fails a pull whose stream carries an error line, with the engine's message, and starts nothing", async () => {
    const ref = await publishPadded("corrupt", 2 * PAD_BYTES);
    // Its random layer's blob in the registry keeps its size but not its content: the engine's digest check fails mid-stream.
    const blob = await blobOfSize(registry.storageDir);
    await writeFile(blob, randomBytes((await stat(blob)).size));
    const stack = await h.stack("corrupt", { web: { image: ref } });
    const ctx = await h.context([stack]);

    const result = await reconcileStack(stack.name, ctx);

    expect(result.services[0]).toMatchObject({ ready: false, reason: "PullFailed" });
    expect(result.services[0]?.message).toMatch(/verification failed|digest|checksum/i);
    expect(await h.containers(stack.name)).toEqual([]);
  });
});

/** The largest blob in the registry's storage: the last random layer pushed (the largest of them). */
async function blobOfSize(storageDir: string): Promise<string> {
  const root = join(storageDir, "docker/registry/v2/blobs/sha256");
  let best = { path: "", size: -1 };
  for (const prefix of await readdir(root))
    for (const digest of await readdir(join(root, prefix))) {
      const path = join(root, prefix, digest, "data");
      const size = (await stat(path)).size;
      if (size > best.size) best = { path, size };
    }
  return best.path;
}
