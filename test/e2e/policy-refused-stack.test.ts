// Real-engine test of the host policy in the agent: a commit in which one stack breaks the policy
// and another changes; the refused stack keeps running as it was while the other rolls out.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { condition, createAgentWorld, waitFor } from "../support/agent-harness.ts";
import type { AgentWorld, RunningAgent } from "../support/agent-harness.ts";
import { docker } from "../support/stacks-harness.ts";

describe("agent: a stack the host policy refuses", () => {
  let world: AgentWorld;
  let root: string;
  let stateDir: string;
  let policyFile: string;
  let kept: string;
  let rolls: string;
  let agent: RunningAgent;

  async function running(stack: string): Promise<Array<{ id: string; version: string; health: string }>> {
    const containers = (await world.containers(stack)).filter((c) => c.state === "running");
    return Promise.all(
      containers.map(async (c) => ({
        id: c.id,
        health: c.health,
        version:
          (await docker("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", c.id))
            .split("\n")
            .find((e) => e.startsWith("VERSION="))
            ?.slice(8) ?? "",
      })),
    );
  }

  /** The tree at `version` for both stacks, with `kept` asking for what the baseline refuses. */
  function commit(version: string): Record<string, string> {
    const files = world.tree({ [kept]: { web: { version } }, [rolls]: { web: { version } } });
    const compose = JSON.parse(files[`stacks/${kept}/compose.yaml`] ?? "{}") as { services: { web: Record<string, unknown> } };
    compose.services.web["privileged"] = true;
    compose.services.web["volumes"] = ["/etc:/host-etc:ro"];
    files[`stacks/${kept}/compose.yaml`] = `${JSON.stringify(compose, null, 2)}\n`;
    return files;
  }

  beforeAll(async () => {
    world = await createAgentWorld("policy");
    kept = world.stackName("kept");
    rolls = world.stackName("rolls");
    root = await world.newDir("desired");
    stateDir = await world.newDir("state");
    policyFile = join(world.dir, "policy.yaml");
    await writeFile(policyFile, "level: baseline\n");
    await world.writeTree(root, world.tree({ [kept]: { web: { version: "v1" } }, [rolls]: { web: { version: "v1" } } }));
    agent = await world.start({ "desired-state": root, "state-dir": stateDir, policy: policyFile });
    await waitFor(
      "both stacks on v1 and healthy",
      async () => {
        const all = [...(await running(kept)), ...(await running(rolls))];
        return (
          all.length === 2 &&
          all.every((c) => c.version === "v1" && c.health === "healthy") &&
          condition((await agent.status()).source?.conditions, "Ready")?.status === "True"
        );
      },
      90_000,
      250,
    );
  });

  afterAll(async () => {
    await world?.cleanup();
  });

  it("leaves the refused stack's containers untouched, Stalled/PolicyDenied, while the other stack rolls out", async () => {
    const before = await running(kept);
    await world.writeTree(root, commit("v2"));

    const stalled = await waitFor(
      "the refused stack Stalled/PolicyDenied and the other on v2",
      async () => {
        const view = await agent.status();
        const stack = view.stacks.find((s) => s.stack === kept);
        const other = await running(rolls);
        return condition(stack?.conditions, "Stalled")?.reason === "PolicyDenied" &&
          other.length === 1 &&
          other[0]?.version === "v2" &&
          other[0].health === "healthy"
          ? stack
          : undefined;
      },
      90_000,
      250,
    );
    await agent.agent.idle();

    expect(await running(kept)).toEqual(before);
    expect(before.map((c) => c.version)).toEqual(["v1"]);
    const message = condition(stalled.conditions, "Stalled")?.message ?? "";
    expect(message).toContain(`stacks/${kept}/compose.yaml:`);
    expect(message).toMatch(/services\.web\.privileged: refused by the host policy \(control privileged, level baseline\)/);
    expect(message).toMatch(
      /services\.web\.volumes\.0\.source: refused by the host policy \(control hostPaths, level baseline\): bind-mounts \/etc/,
    );
    expect(condition(stalled.conditions, "Ready")).toMatchObject({ status: "False", reason: "PolicyDenied" });
    const view = await agent.status();
    expect(condition(view.source?.conditions, "Ready")).toMatchObject({ status: "False", reason: "ResourcesNotReady" });
    expect(view.services.find((s) => s.stack === rolls && s.service === "web")?.health).toBe("healthy");
    await agent.stop();
  });

  it("berth apply with the same policy exits 1 naming the refused stack, and still leaves it as it runs", async () => {
    const before = await running(kept);
    const out: string[] = [];
    const err: string[] = [];
    const code = await createApplyCommand({ stackContext: { pollMs: 250 } }).run(
      { positionals: [root], flags: { machine: "test", "state-dir": stateDir, policy: policyFile } },
      { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
    );
    expect(code).toBe(1);
    expect(err.join("")).toMatch(
      new RegExp(`  ${kept}: refused by the host policy, left as it runs: stacks/${kept}/compose\\.yaml:\\d+: services\\.web\\.privileged`),
    );
    expect(out.join("")).toContain(`✓ service ${rolls}/web  unchanged Healthy`);
    expect(await running(kept)).toEqual(before);
  });

  it("rolls the stack out once the host's policy grants an exception, and clears Stalled", async () => {
    await writeFile(policyFile, `level: baseline\nexceptions:\n  - stack: ${kept}\n    service: web\n    allow: [privileged, hostPaths]\n`);
    agent = await world.start({ "desired-state": root, "state-dir": stateDir, policy: policyFile });
    await waitFor(
      "the excepted stack on v2 and Ready",
      async () => {
        const view = await agent.status();
        const stack = view.stacks.find((s) => s.stack === kept);
        const now = await running(kept);
        return condition(stack?.conditions, "Ready")?.status === "True" && now.length === 1 && now[0]?.version === "v2" ? true : undefined;
      },
      90_000,
      250,
    );
    const stack = (await agent.status()).stacks.find((s) => s.stack === kept);
    expect(condition(stack?.conditions, "Stalled")).toBeUndefined();
    const [web] = await running(kept);
    expect(await docker("inspect", "-f", "{{.HostConfig.Privileged}}", web?.id ?? "")).toBe("true");
  });

  it(
    "refuses the whole commit when the fleet's own files break the policy (a registry outside the allowlist), touching " + "nothing",
    async () => {
      await agent.stop();
      const before = [...(await running(kept)), ...(await running(rolls))];
      await writeFile(policyFile, `level: privileged\nregistries: [docker.io]\n`);
      const files = commit("v3");
      files["berth.yaml"] = (files["berth.yaml"] ?? "").replace("version: 1\n", "version: 1\nregistry: 127.0.0.1:5999/acme\n");
      await world.writeTree(root, files);
      agent = await world.start({ "desired-state": root, "state-dir": stateDir, policy: policyFile });
      const source = await waitFor(
        "the source Stalled/PolicyDenied",
        async () => {
          const view = await agent.status();
          return condition(view.source?.conditions, "Stalled")?.reason === "PolicyDenied" ? view.source : undefined;
        },
        60_000,
        250,
      );
      await agent.agent.idle();
      expect(condition(source?.conditions, "Stalled")?.message).toMatch(
        /^berth\.yaml:2: registry: refused by the host policy \(control registries, level privileged\): registry "127\.0\.0\.1:5999\/acme"/,
      );
      expect([...(await running(kept)), ...(await running(rolls))]).toEqual(before);
    },
  );
});
