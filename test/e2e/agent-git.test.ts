// Real-engine tests of the agent syncing a git remote: push + webhook applies, and bad commits, empty commits, unsigned commits and an
// unreachable remote leave the host as it was, saying why.
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSshKey } from "../support/git-fixture.ts";
import { condition, createAgentWorld, postWebhook, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld, RunningAgent } from "../support/agent-harness.ts";

const SECRET = "s3cret-webhook";

describe("agent: git push and webhook", () => {
  let world: AgentWorld;
  let agent: RunningAgent;
  let remote: Awaited<ReturnType<AgentWorld["gitRemote"]>>;
  let stack: string;
  let first: string;

  async function webId(): Promise<string | undefined> {
    return (await world.containers(stack)).find((c) => c.service === "web" && c.state === "running")?.id;
  }

  async function appliedRevision(sha: string): Promise<void> {
    await waitFor(
      `revision ${sha.slice(0, 7)} applied and web healthy`,
      async () => {
        const view = await agent.status();
        return (
          view.lastAppliedRevision === sha &&
          condition(view.source?.conditions, "Ready")?.status === "True" &&
          view.services.find((s) => s.stack === stack && s.service === "web")?.health === "healthy"
        );
      },
      60_000,
      200,
    );
  }

  beforeAll(async () => {
    world = await createAgentWorld("agit");
    stack = world.stackName("web");
    remote = await world.gitRemote("fleet");
    first = await remote.source.commit(world.tree({ [stack]: { web: { version: "v1" } } }), "v1");
    await remote.push();
    const secretFile = join(world.dir, "webhook-secret");
    await writeFile(secretFile, `${SECRET}\n`);
    agent = await world.start({ repo: remote.url, "state-dir": await world.newDir("state"), "webhook-secret-file": secretFile });
    await appliedRevision(first);
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("applies a pushed commit once GitHub's signed webhook arrives (the bench records webhook → pass start)", async () => {
    const before = await webId();
    const sha = await remote.source.commit(world.tree({ [stack]: { web: { version: "v2" } } }), "v2");
    await remote.push();
    const sent = performance.now();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    const loaded = await agent.waitForLog("desired state loaded", sent);
    await appliedRevision(sha);
    const view = await agent.status();
    expect(view.observedRevision).toBe(sha);
    expect(view.services.find((s) => s.service === "web")).toMatchObject({ health: "healthy", appliedRevision: sha });
    expect(await webId()).not.toBe(before);
    if (process.env["BERTH_TEST_REPORT"]) console.info(`webhook → desired state loaded: ${(loaded.at - sent).toFixed(0)} ms`);
    // Agent-side: the POST, a file:// fetch, a checkout and one `docker compose config`; the bench records the exact number.
    expect(loaded.at - sent).toBeLessThan(1500);
  });

  it("answers 401 to a webhook with a bad signature and applies nothing", async () => {
    const before = await webId();
    const applied = (await agent.status()).lastAppliedRevision;
    await remote.source.commit(world.tree({ [stack]: { web: { version: "v3" } } }), "v3 (not announced)");
    await remote.push();
    const sent = performance.now();
    expect(await postWebhook(agent.url, SECRET, { badSignature: true })).toBe(401);
    await agent.agent.idle();
    expect(agent.logs.filter((l) => l.at >= sent && l.msg === "published new revision")).toEqual([]);
    const view = await agent.status();
    expect(view.lastAppliedRevision).toBe(applied);
    expect(await webId()).toBe(before);
  });

  it("leaves the host untouched on a commit with invalid YAML and says where the error is", async () => {
    const sha = await remote.source.commit(world.tree({ [stack]: { web: { version: "v2" } } }), "back to v2");
    await remote.push();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    await appliedRevision(sha);
    const before = await world.containers(stack);
    const bad = await remote.source.commit(
      { [`stacks/${stack}/compose.yaml`]: "services:\n  web:\n    image: berth-test/busybox:1\n    environment: [unclosed\n" },
      "broken yaml",
    );
    await remote.push();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    const stalled = await waitFor(
      "source Stalled",
      async () => {
        const view = await agent.status();
        const c = condition(view.source?.conditions, "Stalled");
        return c?.status === "True" ? { view, c } : undefined;
      },
      30_000,
      100,
    );
    expect(stalled.c.reason).toBe("InvalidDesiredState");
    expect(stalled.c.message).toMatch(new RegExp(`stacks/${stack}/compose\\.yaml:\\d+`));
    expect(stalled.view.observedRevision).toBe(bad);
    expect(stalled.view.lastAppliedRevision).toBe(sha);
    expect(condition(stalled.view.source?.conditions, "Ready")).toMatchObject({ status: "False", reason: "InvalidDesiredState" });
    expect(await agent.metrics()).toMatch(/^berth_desired_state_valid 0$/m);
    expect(await world.containers(stack)).toEqual(before);

    const good = await remote.source.commit(world.tree({ [stack]: { web: { version: "v4" } } }), "fixed");
    await remote.push();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    await appliedRevision(good);
    const view = await agent.status();
    // Abnormal conditions are present only while True: a cleared Stalled is gone.
    expect(condition(view.source?.conditions, "Stalled")).toBeUndefined();
    expect(await agent.metrics()).toMatch(/^berth_desired_state_valid 1$/m);
  });

  it("removes nothing when a commit deletes every stack without allowEmpty", async () => {
    const before = await world.containers(stack);
    const empty = await remote.source.commit({ [`stacks/${stack}/compose.yaml`]: null }, "delete every stack");
    await remote.push();
    const sent = performance.now();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    await waitFor("the empty commit to be observed", async () => (await agent.status()).observedRevision === empty, 30_000, 100);
    await agent.agent.idle();
    expect(agent.logs.some((l) => l.at >= sent && l.msg === "empty desired state refused")).toBe(true);
    const view = await agent.status();
    expect(view.lastAppliedRevision).not.toBe(empty);
    expect(condition(view.source?.conditions, "Ready")).toMatchObject({ status: "False", reason: "EmptyDesiredStateRefused" });
    expect(condition(view.source?.conditions, "Ready")?.message).toContain(stack);
    const after = await world.containers(stack);
    expect(after.map((c) => [c.id, c.state])).toEqual(before.map((c) => [c.id, c.state]));
  });

  it("says the remote is unreachable, keeps the containers running, and syncs again once it is back", async () => {
    const restored = await remote.source.commit(world.tree({ [stack]: { web: { version: "v4" } } }), "stacks back");
    await remote.push();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    await appliedRevision(restored);
    const before = await world.containers(stack);

    const moved = `${remote.bare}.moved`;
    await rename(remote.bare, moved);
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    const degraded = await waitFor(
      "source Degraded",
      async () => {
        const c = condition((await agent.status()).source?.conditions, "Degraded");
        return c?.status === "True" ? c : undefined;
      },
      30_000,
      100,
    );
    expect(degraded.reason).toBe("FetchFailed");
    expect(degraded.message).toContain("the host stays on the last good commit");
    expect((await world.containers(stack)).map((c) => [c.id, c.state, c.health])).toEqual(before.map((c) => [c.id, "running", "healthy"]));

    // The remote is back with nothing new: the condition clears without a new commit.
    await rename(moved, remote.bare);
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    await waitFor(
      "source Degraded to clear",
      async () => {
        // Abnormal conditions are present only while True: a cleared Degraded is gone.
        const source = (await agent.status()).source;
        return source !== undefined && condition(source.conditions, "Degraded") === undefined;
      },
      30_000,
      100,
    );

    const next = await remote.source.commit(world.tree({ [stack]: { web: { version: "v5" } } }), "after the outage");
    await remote.push();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    await appliedRevision(next);
  });
});

describe("agent: --verify-commits ssh", () => {
  let world: AgentWorld;
  let agent: RunningAgent;

  beforeAll(async () => {
    world = await createAgentWorld("averify");
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("does not apply an unsigned commit and keeps the host on the last verified one", async () => {
    const stack = world.stackName("web");
    const keys = await world.newDir("keys");
    const key = await generateSshKey(keys, "release");
    const allowedSigners = join(keys, "allowed_signers");
    await writeFile(allowedSigners, `${key.allowedSignersLine}\n`);
    const secretFile = join(world.dir, "webhook-secret");
    await writeFile(secretFile, SECRET);
    const remote = await world.gitRemote("fleet");
    const signed = await remote.source.commit(world.tree({ [stack]: { web: { version: "v1" } } }), "signed v1", {
      format: "ssh",
      privateKeyFile: key.privateKeyFile,
    });
    await remote.push();
    agent = await world.start({
      repo: remote.url,
      "state-dir": await world.newDir("state"),
      "webhook-secret-file": secretFile,
      "verify-commits": "ssh",
      "allowed-signers": allowedSigners,
    });
    await waitFor(
      "the signed commit applied",
      async () => {
        const view = await agent.status();
        return view.lastAppliedRevision === signed && view.services.find((s) => s.service === "web")?.health === "healthy";
      },
      60_000,
      200,
    );
    expect(condition((await agent.status()).source?.conditions, "SourceVerified")?.status).toBe("True");
    const before = await world.containers(stack);

    const unsigned = await remote.source.commit(world.tree({ [stack]: { web: { version: "v2" } } }), "unsigned v2");
    await remote.push();
    expect(await postWebhook(agent.url, SECRET)).toBe(202);
    const verified = await waitFor(
      "SourceVerified=False",
      async () => {
        const c = condition((await agent.status()).source?.conditions, "SourceVerified");
        return c?.status === "False" ? c : undefined;
      },
      30_000,
      100,
    );
    expect(verified.reason).toBe("VerificationFailed");
    expect(verified.message).toContain(unsigned);
    await agent.agent.idle();
    const view = await agent.status();
    expect(view.lastAppliedRevision).toBe(signed);
    expect(view.observedRevision).toBe(signed);
    expect(await world.containers(stack)).toEqual(before);
  });
});
