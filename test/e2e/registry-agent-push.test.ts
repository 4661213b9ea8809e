// Real agent + local registry: an image the agent builds while its registry is down is PushPending,
// and the agent itself pushes it (retrying with backoff, no resync, no `berth build --push`) once
// the registry answers again on the same port.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { createAgentWorld, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld } from "../support/agent-harness.ts";
import { ownImageIds } from "../support/images-world.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";
import { docker } from "../support/stacks-harness.ts";

async function registryTags(registry: LocalRegistry, repository: string): Promise<string[]> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/tags/list`, { signal: AbortSignal.timeout(5_000) });
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

describe("agent: a push owed since a registry outage (real engine + local registry)", () => {
  let world: AgentWorld;
  let registry: LocalRegistry;
  const image = `registry-${Math.random().toString(36).slice(2, 8)}-app`;

  beforeAll(async () => {
    world = await createAgentWorld("registry");
    registry = await startLocalRegistry();
  });

  afterAll(async () => {
    await world?.cleanup();
    await registry?.destroy();
    const ids = await ownImageIds(image.replace(/-app$/, ""));
    if (ids.length > 0) await docker("rmi", "-f", ...ids).catch(() => undefined);
  });

  it("builds while the registry is down (PushPending), then pushes the built image when it is back, without a resync", async () => {
    // Arrange: one image, the registry stopped before the agent's first pass
    const root = await world.newDir("desired");
    await world.writeTree(root, {
      "berth.yaml": `version: 1\nregistry: "${registry.host}"\nresync: 1h\nallowEmpty: true\nmachines:\n  test: { profile: test }\n`,
      "profiles/test.json": "{}\n",
    });
    await mkdir(join(root, "images", image), { recursive: true });
    await writeFile(join(root, "images", image, "Dockerfile"), "FROM berth-test/busybox:1\nRUN echo pending > /pending.txt\n");
    await writeFile(join(root, "images", image, "image.yaml"), "push: true\n");
    await registry.stop();
    const stateDir = await world.newDir("state");
    const key = { kind: "image" as const, machine: "test", name: image };
    const status = async () => (await openStatusStore(stateDir)).get(key);

    // Act 1
    const agent = await world.start({ "desired-state": root, "state-dir": stateDir });
    const pending = await waitFor("PushPending", async () => getCondition((await status())?.conditions ?? [], "PushPending"), 120_000, 200);
    const builtId = (await status())?.build?.imageId;

    // Assert 1
    expect(pending).toMatchObject({ status: "True", reason: "RegistryUnreachable" });
    expect(getCondition((await status())?.conditions ?? [], "Ready")).toMatchObject({ status: "True", reason: "BuiltLocally" });

    // Act 2: the registry comes back on the same port; the agent's retry (15 s after the first attempt) pushes
    await registry.start();
    const contentTag = (await status())?.build?.tag.split(":").pop() ?? "";
    const tags = await waitFor(
      "the content tag in the registry",
      async () => {
        const listed = await registryTags(registry, image);
        return listed.includes(contentTag) && listed;
      },
      90_000,
      500,
    );

    // Assert 2
    await waitFor("PushPending cleared", async () => getCondition((await status())?.conditions ?? [], "PushPending") === undefined, 10_000);
    expect(tags.some((t) => /^\d{8}-[0-9a-f]{7}$/.test(t))).toBe(true);
    expect((await status())?.build?.imageId).toBe(builtId);
    expect(getCondition((await status())?.conditions ?? [], "Degraded")).toBeUndefined();
    expect(agent.logs.find((l) => l.msg === "pending image push done")).toMatchObject({ imageId: builtId });
    expect(agent.logs.filter((l) => l.msg === "image build started")).toHaveLength(1);
  });
});
