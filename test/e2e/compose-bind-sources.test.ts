// Real-engine tests of bind sources under git-sync (`berth agent --repo … --once`, a fresh
// process each time): a data folder keeps its data through commits, restarts and a rollback;
// a tracked config file rolls exactly the services that mount it.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../platform/run-command.ts";
import { BERTH_BIN, createAgentWorld, REPO_ROOT } from "../support/agent-harness.ts";
import type { AgentWorld } from "../support/agent-harness.ts";
import { docker, serviceContainerIds } from "../support/stacks-harness.ts";

/** busybox httpd that is healthy only while its mounted config says "ok", and logs each start into /data. */
function service(conf: string): Record<string, unknown> {
  return {
    image: "berth-test/busybox:1",
    command: [
      "sh",
      "-c",
      `mkdir -p /www && date >> /data/starts && if grep -q ok ${conf}; then echo ok > /www/health; fi; exec httpd -f -p 8080 -h /www`,
    ],
    stop_grace_period: "1s",
    healthcheck: {
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"],
      interval: "1s",
      timeout: "1s",
      retries: 2,
    },
  };
}

describe("compose bind sources under git-sync", () => {
  let world: AgentWorld;
  let remote: Awaited<ReturnType<AgentWorld["gitRemote"]>>;
  let stack: string;
  let stateDir: string;

  function files(appConf: string, otherConf: string, extra: Record<string, string> = {}): Record<string, string> {
    const compose = {
      "x-berth": { prune: true },
      services: {
        app: { ...service("/etc/app.conf"), volumes: ["./data:/data", "./conf/app.conf:/etc/app.conf"] },
        other: { ...service("/etc/other.conf"), volumes: ["./other-data:/data", "./conf/other.conf:/etc/other.conf:ro"] },
      },
    };
    return {
      "berth.yaml": "version: 1\nmachines:\n  test: { profile: test }\nrollout: { healthTimeout: 20s, monitor: 1s }\n",
      "profiles/test.json": "{}\n",
      [`stacks/${stack}/compose.yaml`]: `${JSON.stringify(compose, null, 2)}\n`,
      [`stacks/${stack}/conf/app.conf`]: appConf,
      [`stacks/${stack}/conf/other.conf`]: otherConf,
      ...extra,
    };
  }

  /** One `berth agent --once` process: sync, one pass, exit. */
  async function agentOnce(logLevel = "warn"): Promise<{ exitCode: number; output: string }> {
    const result = await runCommand(
      BERTH_BIN,
      ["agent", "--repo", remote.url, "--once", "--machine", "test", "--state-dir", stateDir, "--listen", "127.0.0.1:0"],
      { cwd: REPO_ROOT, allowFailure: true, timeoutMs: 180_000, env: { ...process.env, BERTH_LOG_LEVEL: logLevel } },
    );
    return { exitCode: result.exitCode, output: result.stdout + result.stderr };
  }

  async function commitAndSync(content: Record<string, string>, message: string): Promise<{ exitCode: number; output: string }> {
    await remote.source.commit(content, message);
    await remote.push();
    return agentOnce();
  }

  function ids(): Promise<Record<string, string>> {
    return serviceContainerIds(stack);
  }

  async function execIn(serviceName: string, command: string): Promise<string> {
    const id = (await ids())[serviceName];
    if (!id) throw new Error(`no running ${serviceName} container`);
    return (await docker("exec", id, "sh", "-c", command)).trim();
  }

  beforeAll(async () => {
    world = await createAgentWorld("compose-binds");
    stack = world.stackName("compose-binds");
    stateDir = await world.newDir("state");
    remote = await world.gitRemote("compose-fleet");
  }, 60_000);

  afterAll(async () => {
    await world?.cleanup();
  });

  it(
    "keeps a data folder through four commits, agent restarts, a rollback and the stack's removal; a config-only commit rolls " +
      "only its service",
    async () => {
      // Arrange: the first commit; the service writes data into its data folder.
      const first = await commitAndSync(files("ok v1\n", "ok v1\n"), "v1");
      expect(first.exitCode, first.output).toBe(0);
      await execIn("app", "echo precious > /data/precious");
      const initial = await ids();

      // Act + assert: commit 2 changes app.conf only → app rolls, other stays.
      const second = await commitAndSync(files("ok v2\n", "ok v1\n"), "app.conf v2");
      expect(second.exitCode, second.output).toBe(0);
      const afterApp = await ids();
      expect(afterApp["app"]).not.toBe(initial["app"]);
      expect(afterApp["other"]).toBe(initial["other"]);
      expect(await execIn("app", "cat /etc/app.conf")).toBe("ok v2");

      // Commit 3 touches nothing the stack mounts → nothing recreated.
      const third = await commitAndSync(files("ok v2\n", "ok v1\n", { "README.md": "fleet\n" }), "readme");
      expect(third.exitCode, third.output).toBe(0);
      expect(await ids()).toEqual(afterApp);

      // Commit 4 changes other.conf only → other rolls, app stays.
      const fourth = await commitAndSync(files("ok v2\n", "ok v2\n", { "README.md": "fleet\n" }), "other.conf v2");
      expect(fourth.exitCode, fourth.output).toBe(0);
      const afterOther = await ids();
      expect(afterOther["app"]).toBe(afterApp["app"]);
      expect(afterOther["other"]).not.toBe(afterApp["other"]);

      // Commit 5 breaks app.conf → the health gate fails, app is rolled back to the v2 copy.
      const fifth = await commitAndSync(files("bad\n", "ok v2\n", { "README.md": "fleet\n" }), "app.conf bad");
      expect(fifth.exitCode, fifth.output).not.toBe(0);
      expect(await execIn("app", "cat /etc/app.conf")).toBe("ok v2");

      // The data written in the first commit survived every commit, restart and the rollback.
      expect(await execIn("app", "cat /data/precious")).toBe("precious");
      const onHost = join(stateDir, "data", stack, "data");
      expect(await readFile(join(onHost, "precious"), "utf8")).toBe("precious\n");
      // Every app start (v1, v2, the failed broken one, the rollback) appended to the same file.
      expect((await readFile(join(onHost, "starts"), "utf8")).trim().split("\n").length).toBeGreaterThanOrEqual(4);
      // git-sync pruned the first commits' trees; nothing was mounted from them.
      expect((await readdir(join(stateDir, "source", "worktrees"))).length).toBeLessThanOrEqual(2);
      for (const id of Object.values(await ids())) {
        const mounts = await docker("inspect", "--format", "{{range .Mounts}}{{.Source}} {{end}}", id);
        expect(mounts).toContain(join(stateDir, "data", stack));
        expect(mounts).toContain(join(stateDir, "sources", stack));
        expect(mounts).not.toContain(join(stateDir, "source", "worktrees"));
      }

      // The stack leaves the desired state (prune: true): its containers go, its data folder stays and is named.
      await remote.source.commit(
        {
          [`stacks/${stack}/compose.yaml`]: null,
          [`stacks/${stack}/conf/app.conf`]: null,
          [`stacks/${stack}/conf/other.conf`]: null,
          "berth.yaml": "version: 1\nmachines:\n  test: { profile: test }\nallowEmpty: true\n",
        },
        "remove the stack",
      );
      await remote.push();
      const removed = await agentOnce("info");
      expect(removed.exitCode, removed.output).toBe(0);
      expect(await ids()).toEqual({});
      expect(removed.output).toContain(join(stateDir, "data", stack));
      expect(await readFile(join(onHost, "precious"), "utf8")).toBe("precious\n");
    },
    600_000,
  );
});
