// Real-engine test of the agent: a commit whose profile is a symlink to a host file is refused,
// the running stack is left as it was, and neither the status API nor the logs carry that file's content.
import { rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { condition, createAgentWorld, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld, RunningAgent } from "../support/agent-harness.ts";

const HOST_CONTENT = "root:x:0:0";

describe("agent: a profile symlinked to a host file", () => {
  let world: AgentWorld;
  let agent: RunningAgent;
  let root: string;
  let stack: string;

  beforeAll(async () => {
    world = await createAgentWorld("harden");
    stack = world.stackName("app");
    root = await world.newDir("desired");
    await world.writeTree(root, world.tree({ [stack]: { web: {} } }));
    agent = await world.start({ "desired-state": root, "state-dir": await world.newDir("state") });
    await waitFor("Ready", async () => condition((await agent.status()).source?.conditions, "Ready")?.status === "True", 90_000, 200);
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("is refused without its content reaching the status API or the logs, and the stack keeps running", async () => {
    const before = await world.containers(stack);
    await rm(join(root, "profiles/test.json"));
    await symlink("/etc/passwd", join(root, "profiles/test.json"));

    const stalled = await waitFor(
      "Stalled",
      async () => {
        const c = condition((await agent.status()).source?.conditions, "Stalled");
        return c?.status === "True" ? c : undefined;
      },
      60_000,
      200,
    );

    expect(stalled).toMatchObject({ reason: "InvalidDesiredState", message: expect.stringContaining("profiles/test.json: is a symlink") });
    const raw = await (await fetch(`${agent.url}/api/v1/status`)).text();
    expect(raw).not.toContain(HOST_CONTENT);
    expect(JSON.stringify(agent.logs)).not.toContain(HOST_CONTENT);
    expect(await world.containers(stack)).toEqual(before);
  });
});
