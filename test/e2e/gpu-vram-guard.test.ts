// A second dockerd set up as an NVIDIA Container Toolkit host minus the GPU (an `nvidia` runtime and a
// stand-in toolkit hook, test/support/second-engine.ts): a GPU service is admitted and runs, and the
// VRAM guard of its monitor window reads a stand-in nvidia-smi printing the real H100 output with the
// new container's PID: over its vramMiB, or its GPU over MODEL_EVICT_THRESHOLD_PCT, rolls it back.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackSpec } from "../../desired-state/desired-state.ts";
import { createNvidiaSmiReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { selectEngine } from "../../platform/engine-selection.ts";
import { createContainerOps } from "../../reconcilers/stacks/container-ops.ts";
import type { StackContext } from "../../reconcilers/stacks/stack-context.ts";
import { reconcileStack } from "../../reconcilers/stacks/stack-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import { BUSYBOX_IMAGE } from "../support/busybox-image.ts";
import { startSecondEngine } from "../support/second-engine.ts";
import type { SecondEngine } from "../support/second-engine.ts";
import { createHarness, withServices } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/nvidia-smi/", import.meta.url));

describe("gpu: the VRAM guard of the monitor window (engine with a stand-in NVIDIA toolkit)", () => {
  let second: SecondEngine;
  let h: Harness;
  let dir: string;
  let extra: Partial<StackContext>;
  const marker = `gpu-vram-${Math.random().toString(36).slice(2, 8)}`;
  const tags: Record<string, string> = {};

  /** busybox httpd serving the version, with a healthcheck; built on the second engine (COPY only). */
  async function build(version: string): Promise<string> {
    const context = join(dir, `build-${version}`);
    await mkdir(join(context, "www"), { recursive: true });
    await writeFile(join(context, "www", "index.html"), `${version}\n`);
    await writeFile(join(context, "www", "health"), "ok\n");
    await writeFile(
      join(context, "Dockerfile"),
      `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\n` +
        "HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1\n" +
        'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n',
    );
    const tag = `${h.prefix}/gpu-llm:${version}`;
    await second.docker("build", "-q", "-t", tag, context);
    return tag;
  }

  /** v1 runs as a GPU service; returns the stack. */
  async function running(name: string, vramMiB: number): Promise<StackSpec> {
    const stack = withServices(await h.stack(name, { llm: { image: tags["v1"] ?? "" } }), (s) => ({ ...s, gpu: { count: 1, vramMiB } }));
    const result = await reconcileStack(stack.name, await h.context([stack], extra));
    expect(result.services[0]).toMatchObject({ ready: true });
    return stack;
  }

  /** v2 runs its server under a shell whose command line carries the marker: the stand-in nvidia-smi reports that PID. */
  function toV2(stack: StackSpec): StackSpec {
    return withServices(stack, (s) => ({
      ...s,
      image: tags["v2"] ?? "",
      rollout: { ...s.rollout, monitorSeconds: 3 },
      config: { ...s.config, command: ["sh", "-c", `httpd -f -p 8080 -h /www; : ${marker}`] },
    }));
  }

  /** The image ids of the stack's containers (all states), as tags of v1/v2 where they match. */
  async function versionsOf(stack: StackSpec): Promise<string[]> {
    const ids = (await second.docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${stack.name}`))
      .split("\n")
      .filter(Boolean);
    const byId = new Map<string, string>();
    for (const version of ["v1", "v2"]) byId.set(await second.docker("image", "inspect", "-f", "{{.Id}}", tags[version] ?? ""), version);
    const images = await Promise.all(ids.map((id) => second.docker("inspect", "-f", "{{.Image}}", id)));
    return images.map((image) => byId.get(image) ?? image);
  }

  beforeAll(async () => {
    second = await startSecondEngine({ gpuStandIn: true });
    h = await createHarness("gpu-vram");
    dir = await mkdtemp(join(tmpdir(), `${h.prefix}-vram-`));
    tags["v1"] = await build("v1");
    tags["v2"] = await build("v2");
    const smi = join(dir, "nvidia-smi");
    await writeFile(
      smi,
      [
        "#!/bin/sh",
        'case "$1" in',
        `  --query-gpu=*) cut -d, -f1-7 "${FIXTURES}query-gpu-busy.csv" ;;`,
        `  --query-compute-apps=*) for pid in $(pgrep -f "${marker}"); do sed "s/^425,/$pid,/" "${FIXTURES}query-apps-busy.csv"; done ;;`,
        "esac",
        "",
      ].join("\n"),
    );
    await chmod(smi, 0o755);
    const selection = selectEngine({
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: process.env["HOME"] ?? "/root",
      DOCKER_HOST: second.socket,
    });
    extra = {
      engine: createDockerEngine(selection),
      compose: createComposeCli({ env: selection.childEnv, defaultTimeoutMs: 120_000 }),
      ops: createContainerOps({ env: selection.childEnv }),
      gpu: createNvidiaSmiReader({ command: smi }),
      profile: { MODEL_EVICT_THRESHOLD_PCT: "90" },
    };
  }, 240_000);

  afterAll(async () => {
    await second?.stop();
    await h?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("admits and runs a GPU service on an engine with the nvidia runtime; the toolkit's device request reaches the container", async () => {
    const stack = await running("admitted", 8000);
    const id = await second.docker("ps", "-q", "--filter", `label=com.docker.compose.project=${stack.name}`);
    // dockerd's nvidia device driver sets it in the container's init process (not in its config).
    expect((await second.docker("exec", id, "cat", "/proc/1/environ")).split("\0")).toContain("NVIDIA_VISIBLE_DEVICES=0");
  });

  it("rolls back with VramExceeded when the new container uses more than its vramMiB (7044 > 4096 MiB)", async () => {
    // Arrange
    const stack = await running("over-vram", 4096);

    // Act
    const ctx = await h.context([toV2(stack)], extra);
    const result = await reconcileStack(stack.name, ctx);

    // Assert
    expect(result.ready).toBe(false);
    const record = ctx.store.get({ kind: "service", stack: stack.name, service: "llm" });
    const degraded = getCondition(record?.conditions ?? [], "Degraded");
    expect(degraded?.reason).toBe("RolledBack");
    expect(degraded?.message).toContain("VramExceeded: uses 7044 MiB of VRAM on GPU 0, more than its vramMiB 4096");
    expect(record?.failed?.reason).toBe("VramExceeded");
    expect(await versionsOf(stack)).toEqual(["v1"]);
  });

  it("rolls back with VramExceeded when the GPU it uses passes MODEL_EVICT_THRESHOLD_PCT (7053 of 81559 MiB > 5 %)", async () => {
    // Arrange
    const stack = await running("over-threshold", 8000);

    // Act
    const ctx = await h.context([toV2(stack)], { ...extra, profile: { MODEL_EVICT_THRESHOLD_PCT: "5" } });
    const result = await reconcileStack(stack.name, ctx);

    // Assert
    expect(result.ready).toBe(false);
    const degraded = getCondition(ctx.store.get({ kind: "service", stack: stack.name, service: "llm" })?.conditions ?? [], "Degraded");
    expect(degraded?.reason).toBe("RolledBack");
    expect(degraded?.message).toContain("VramExceeded: GPU 0 holds 7053 of 81559 MiB (8.6%), above MODEL_EVICT_THRESHOLD_PCT=5");
    expect(await versionsOf(stack)).toEqual(["v1"]);
  });

  it("rolls out when the new container stays within its VRAM and the threshold", async () => {
    const stack = await running("within", 8000);
    const result = await reconcileStack(stack.name, await h.context([toV2(stack)], extra));
    expect(result.ready).toBe(true);
    expect(await versionsOf(stack)).toEqual(["v2"]);
  });
});
