// Real-engine test of the agent following a tracked third-party tag under git-sync: the periodic
// resync runs a pass without a new commit, sees the tag's new digest and rolls the service out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { condition, createAgentWorld, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld, RunningAgent } from "../support/agent-harness.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";
import { createHarness, docker } from "../support/stacks-harness.ts";
import type { Harness } from "../support/stacks-harness.ts";

describe("agent: a tracked tag under git-sync", () => {
  let world: AgentWorld;
  let images: Harness;
  let registry: LocalRegistry;
  let agent: RunningAgent;

  beforeAll(async () => {
    [world, images, registry] = await Promise.all([
      createAgentWorld("thirdparty-agent"),
      createHarness("thirdparty-agent"),
      startLocalRegistry(),
    ]);
  });

  afterAll(async () => {
    await world?.cleanup();
    await images?.cleanup();
    await registry?.destroy();
  });

  it("rolls a tracked service out to the tag's new digest on a resync, with no new commit", async () => {
    // Arrange: the tag names v1; the commit says track it; resync every 2 s
    const [v1, v2] = await Promise.all([images.buildVersion("a1"), images.buildVersion("a2")]);
    const ref = `${registry.host}/${images.prefix}/agent:1`;
    const publish = async (source: string): Promise<void> => {
      await docker("tag", source, ref);
      await docker("push", "--quiet", ref);
      await docker("rmi", ref);
    };
    await publish(v1);
    const stack = world.stackName("tracked");
    const remote = await world.gitRemote("fleet");
    await remote.source.commit(
      {
        "berth.yaml": "version: 1\nmachines:\n  test: { profile: test }\nrollout: { healthTimeout: 30s, monitor: 1s }\nresync: 2s\n",
        "profiles/test.json": "{}\n",
        [`stacks/${stack}/compose.yaml`]:
          `services:\n  web:\n    image: ${ref}\n    stop_grace_period: 1s\n    x-berth:\n      ` + `update: track\n`,
      },
      "track the cache",
    );
    await remote.push();
    agent = await world.start({ repo: remote.url, "state-dir": await world.newDir("state") });
    const running = async (id: string): Promise<boolean> =>
      (await images.containers(stack)).some((c) => c.service === "web" && c.state === "running" && c.imageId === id);
    const [id1, id2] = await Promise.all([images.imageId(v1), images.imageId(v2)]);
    await waitFor("web running the tag's first image", () => running(id1), 90_000, 250);

    // Act: the tag moves in the registry; nothing is committed
    await publish(v2);

    // Assert: a resync pulls it and rolls the service out, health-gated
    await waitFor("web running the tag's new image", () => running(id2), 90_000, 250);
    await waitFor(
      "web Ready after the rollout",
      async () => {
        const view = await agent.status();
        const web = view.services.find((s) => s.stack === stack && s.service === "web");
        return condition(web?.conditions, "Ready")?.status === "True";
      },
      60_000,
      250,
    );
    expect(agent.logs.some((l) => l.msg === "image pull planned" && l["reason"] === "TagMoved")).toBe(true);
  });
});
