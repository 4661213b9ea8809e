// Real engine: `berth build` builds exactly what the agent would (same hashes and tags), so the
// agent's next pass on the same desired state invokes BuildKit zero times; `berth ci-matrix` lists it.
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommand } from "../../controller/commands/build-command.ts";
import { ciMatrixCommand } from "../../controller/commands/ci-matrix-command.ts";
import type { CliIo } from "../../controller/cli-io.ts";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { imagesReconcilerFor, ownImageIds } from "../support/images-world.ts";

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { ...process.env, BERTH_LOG_LEVEL: "silent" } };
}

describe("berth build and berth ci-matrix (real engine)", () => {
  const prefix = `berth-t-${Math.random().toString(36).slice(2, 8)}`;
  let root: string;
  let stateDir: string;

  beforeAll(async () => {
    await ensureBusyboxImage();
    root = await mkdtemp(join(tmpdir(), `${prefix}-root-`));
    stateDir = await mkdtemp(join(tmpdir(), `${prefix}-state-`));
    await writeFile(join(root, "berth.yaml"), "version: 1\nmachines:\n  m1: { profile: p1 }\n  m2: { profile: p2 }\n");
    await mkdir(join(root, "profiles"));
    await writeFile(join(root, "profiles", "p1.json"), JSON.stringify({ CUDA_ARCH: "8.9" }));
    await writeFile(join(root, "profiles", "p2.json"), JSON.stringify({ CUDA_ARCH: "8.6" }));
    const images: Record<string, string> = {
      [`${prefix}-base`]: "FROM berth-test/busybox:1\nRUN echo base > /base.txt\n",
      [`${prefix}-gpu`]:
        `FROM ${prefix}-base\nARG CUDA_ARCH\nARG TORCH_CUDA_ARCH_LIST\nRUN echo "$CUDA_ARCH ` + `$TORCH_CUDA_ARCH_LIST" > /arch.txt\n`,
    };
    for (const [name, dockerfile] of Object.entries(images)) {
      await mkdir(join(root, "images", name), { recursive: true });
      await writeFile(join(root, "images", name, "Dockerfile"), dockerfile);
      await writeFile(
        join(root, "images", name, "image.yaml"),
        name.endsWith("-gpu") ? 'args: { TORCH_CUDA_ARCH_LIST: "8.9;8.6" }\n' : "{}\n",
      );
    }
  });

  afterAll(async () => {
    const ids = await ownImageIds(prefix);
    if (ids.length > 0) {
      const { execFile } = await import("node:child_process");
      await new Promise((resolve) => execFile("docker", ["rmi", "-f", ...ids], resolve));
    }
    await rm(root, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it("prints the image × machine matrix with the shared base once", async () => {
    const io = captureIo();

    const code = await ciMatrixCommand.run({ positionals: [root], flags: {} }, io);

    expect(code).toBe(0);
    const matrix = JSON.parse(io.out.join("")) as { include: Array<{ image: string; machine: string; tag: string }> };
    expect(matrix.include.map((row) => [row.image, row.machine])).toEqual([
      [`${prefix}-base`, "m1"],
      [`${prefix}-gpu`, "m1"],
      [`${prefix}-gpu`, "m2"],
    ]);
  });

  it("builds what the agent would, so the agent's next pass calls BuildKit zero times", async () => {
    const io = captureIo();

    const code = await buildCommand.run({ positionals: [root], flags: { machine: "m1", image: [`${prefix}-gpu`], json: true } }, io);

    expect(io.err.join("")).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(io.out.join("")) as { images: Array<{ name: string; action: string; tag: string }> };
    expect(report.images.map((i) => [i.name, i.action])).toEqual([
      [`${prefix}-base`, "build"],
      [`${prefix}-gpu`, "build"],
    ]);
    const loaded = await loadDesiredState(root);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
    const agent = imagesReconcilerFor(await openStatusStore(stateDir), builder);
    const pass = await agent.reconcile(loaded.state, "m1");
    expect(builder.count()).toBe(0);
    expect([...pass.tags.values()]).toEqual(report.images.map((i) => i.tag));
  });

  it("refuses an unknown machine with a usage error", async () => {
    const io = captureIo();
    expect(await buildCommand.run({ positionals: [root], flags: { machine: "nope" } }, io)).toBe(2);
    expect(io.err.join("")).toContain('machine "nope" is not in berth.yaml machines (known: ');
  });
});
