// Real engine: the example fleet's GPU family (base-python → base-utils → base-gpu → family-torch)
// builds on a machine without CUDA, with CUDA_ARCH from the machine profile and per-machine tags.
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import type { DesiredState } from "../../desired-state/desired-state.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import type { ImagesResult } from "../../reconcilers/images/images-reconciler.ts";
import { imagesReconcilerFor, inspectLocal } from "../support/images-world.ts";

const execFileP = promisify(execFile);
const fleet = fileURLToPath(new URL("../../examples/fleet", import.meta.url));

describe("images reconciler: the example GPU family (real engine, no CUDA)", () => {
  const prefix = `berth-t-${Math.random().toString(36).slice(2, 8)}`;
  const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
  let stateDir: string;
  let state: DesiredState;
  let result: ImagesResult;

  beforeAll(async () => {
    await execFileP("docker", ["image", "inspect", "debian:bookworm-slim"]).catch(() => {
      throw new Error("debian:bookworm-slim is missing: import it with scripts/test-env.sh (debootstrap) first");
    });
    const loaded = await loadDesiredState(fleet, { revision: "feedface00000000000000000000000000000000" });
    if (!loaded.ok) throw new Error(`example fleet does not load: ${JSON.stringify(loaded.problems)}`);
    // No registry: local repositories under a unique prefix, so the test owns every tag it makes.
    // A build arg of the test's own on the chain's root gives every image of the chain an input hash
    // no earlier build on this engine has (the example built for mainpc would otherwise be reused).
    const { registry: _registry, ...rest } = loaded.state;
    state = {
      ...rest,
      images: rest.images.map((i) => (i.name === "base-python" ? { ...i, args: { ...i.args, BERTH_TEST_RUN: prefix } } : i)),
    };
    stateDir = await mkdtemp(join(tmpdir(), `${prefix}-state-`));
    const reconciler = imagesReconcilerFor(await openStatusStore(stateDir), builder);
    result = await reconciler.reconcile(state, "mainpc", { only: ["family-torch"], localPrefix: prefix });
  });

  afterAll(async () => {
    const { stdout } = await execFileP("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
    const mine = stdout.split("\n").filter((ref) => ref.startsWith(`${prefix}/`));
    if (mine.length > 0) await execFileP("docker", ["rmi", ...mine]).catch(() => undefined);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("builds the whole GPU chain in hierarchy order", () => {
    expect(result.outcomes.map((o) => [o.name, o.ok, o.message.slice(0, 300)])).toEqual([
      ["base-python", true, expect.any(String)],
      ["base-utils", true, expect.any(String)],
      ["base-gpu", true, expect.any(String)],
      ["family-torch", true, expect.any(String)],
    ]);
  });

  it("passes CUDA_ARCH from mainpc's profile and TORCH_CUDA_ARCH_LIST from image.yaml", async () => {
    const gpuCall = builder.calls.find((c) => c.image === "base-gpu");
    expect(gpuCall?.buildArgs).toEqual({ CUDA_ARCH: "8.9", TORCH_CUDA_ARCH_LIST: "8.9;8.6" });
    const gpu = await inspectLocal(result.tags.get("base-gpu") ?? "");
    expect(gpu?.labels["io.berth.example.cuda-arch"]).toBe("8.9");
    expect(gpu?.labels["io.berth.example.torch-cuda-arch-list"]).toBe("8.9;8.6");
    const { stdout } = await execFileP("docker", [
      "run",
      "--rm",
      "--network",
      "none",
      result.tags.get("family-torch") ?? "",
      "cat",
      "/etc/berth-gpu-arch",
    ]);
    expect(stdout).toBe("CUDA_ARCH=8.9\nTORCH_CUDA_ARCH_LIST=8.9;8.6\n");
  });

  it("tags the profile-dependent images per machine and the shared ones without a machine", () => {
    expect(result.tags.get("base-python")).toMatch(new RegExp(`^${prefix}/base-python:[0-9a-f]{12}$`));
    expect(result.tags.get("base-utils")).toMatch(/:[0-9a-f]{12}$/);
    expect(result.tags.get("base-gpu")).toMatch(/:[0-9a-f]{12}-mainpc$/);
    expect(result.tags.get("family-torch")).toMatch(/:[0-9a-f]{12}-mainpc$/);
  });
});
