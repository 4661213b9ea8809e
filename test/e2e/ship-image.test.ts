// berth's own image (Dockerfile, built through deploy/compose.yaml) running the agent against
// the host engine: it git-syncs a copy of the example fleet, builds its images, starts its
// stacks until the host is Ready, and serves metrics. The copy has this test's stack names and
// ports, state dir and image tag, so neither the example agent nor other tests collide with it.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../platform/run-command.ts";
import type { StatusView } from "../../controller/status-view.ts";
import { copyExampleFleet } from "../support/example-fleet.ts";
import type { ExampleCopy } from "../support/example-fleet.ts";
import { freeLoopbackPort } from "../support/local-registry.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DEPLOY = join(REPO, "deploy", "compose.yaml");
const READY_TIMEOUT_MS = 20 * 60_000;

describe("the berth image running the agent on the example fleet", () => {
  const prefix = `ship-img-${randomBytes(3).toString("hex")}`;
  const image = `berth-test/${prefix}:dev`;
  const token = randomBytes(16).toString("hex");
  let work = "";
  let fleet: ExampleCopy;
  let url = "";
  let composeArgs: string[] = [];
  let env: NodeJS.ProcessEnv = {};
  let status: StatusView | undefined;

  async function compose(args: string[], timeoutMs = 120_000): Promise<string> {
    return (await runCommand("docker", ["compose", ...composeArgs, ...args], { env, timeoutMs })).stdout;
  }

  async function get(path: string): Promise<Response> {
    return fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  }

  beforeAll(
    async () => {
      await runCommand("docker", ["image", "inspect", "debian:trixie-slim"], { timeoutMs: 30_000 }).catch(() => {
        throw new Error("debian:trixie-slim is missing: create it with `bash scripts/test-env.sh --trixie` (debootstrap)");
      });
      work = await mkdtemp(join(tmpdir(), `${prefix}-`));
      // The desired state as the container sees it: a git remote, mounted at the same path.
      fleet = await copyExampleFleet(prefix, { registry: false, parent: work });
      const git = (args: string[], cwd: string) =>
        runCommand("git", args, {
          cwd,
          timeoutMs: 60_000,
          env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
        });
      await git(["init", "-q", "-b", "main"], fleet.root);
      await git(["add", "-A"], fleet.root);
      await git(["commit", "-q", "-m", "example fleet"], fleet.root);
      const remote = join(work, "fleet.git");
      await git(["clone", "-q", "--bare", fleet.root, remote], work);
      await mkdir(join(work, "etc-berth"));
      const tokenFile = join(work, "api-token");
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      const override = join(work, "compose.override.yaml");
      await writeFile(override, `services:\n  berth:\n    volumes:\n      - ${remote}:${remote}:ro\n`);
      const port = await freeLoopbackPort();
      url = `http://127.0.0.1:${port}`;
      // BERTH_CONFIG_DIR: this test's own /etc/berth (no policy file: the default level).
      env = {
        ...process.env,
        BERTH_IMAGE: image,
        BERTH_REPO: `file://${remote}`,
        BERTH_MACHINE: "pc2",
        BERTH_STATE_DIR: join(work, "state"),
        BERTH_LISTEN: `127.0.0.1:${port}`,
        BERTH_API_TOKEN_FILE: tokenFile,
        BERTH_CONFIG_DIR: join(work, "etc-berth"),
      };
      composeArgs = ["-p", prefix, "-f", DEPLOY, "-f", override];

      await compose(["build"], 30 * 60_000);
      await compose(["up", "-d"]);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        const res = await get("/api/v1/status").catch(() => undefined);
        if (res?.ok) {
          status = (await res.json()) as StatusView;
          if (status.source?.conditions.find((c) => c.type === "Ready")?.status === "True") break;
        }
        const state = (
          await runCommand("docker", ["inspect", "-f", "{{.State.Status}}", `${prefix}-berth-1`], { allowFailure: true, timeoutMs: 30_000 })
        ).stdout.trim();
        if (state !== "running" || Date.now() > deadline) {
          const logs = await compose(["logs", "--no-color", "--tail", "40"]).catch((error: Error) => error.message);
          throw new Error(
            `the agent in the image is ${state} and not Ready after ` +
              `${Math.round((READY_TIMEOUT_MS - (deadline - Date.now())) / 1000)} s; status: ` +
              `${JSON.stringify(status?.source?.conditions)}\n${logs}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    },
    READY_TIMEOUT_MS + 35 * 60_000,
  );

  afterAll(async () => {
    if (composeArgs.length > 0) await compose(["down", "--remove-orphans", "-t", "5"]).catch(() => "");
    await fleet?.cleanup();
    await runCommand("docker", ["image", "rm", image], { allowFailure: true, timeoutMs: 60_000 });
    if (work) await rm(work, { recursive: true, force: true });
  }, 300_000);

  it("reaches Ready with the example's pc2 services running healthy from images it built", () => {
    const services = (status?.services ?? []).map((s) => [s.stack, s.service, s.health]);

    expect(services).toEqual(
      expect.arrayContaining([
        [fleet.stack("memory-fusion-hub"), "memory_fusion_hub", "healthy"],
        [fleet.stack("observability"), "observability_center", expect.stringMatching(/healthy|running/)],
      ]),
    );
  });

  it("serves Prometheus metrics naming its version and the services' health", async () => {
    const res = await get("/metrics");
    const body = await res.text();

    expect(res.status).toBe(200);
    expect(body).toMatch(/^berth_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
    expect(body).toContain(
      `berth_service_health{stack="${fleet.stack("memory-fusion-hub")}",service="memory_fusion_hub",state="healthy"} 1`,
    );
  });

  it("holds compiled JavaScript on apt's nodejs ≥ 20.19, runs as root with tini, and keeps state in a volume", async () => {
    const run = (cmd: string) =>
      runCommand("docker", ["run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", cmd], { timeoutMs: 60_000 });
    const inspect = JSON.parse((await runCommand("docker", ["image", "inspect", image], { timeoutMs: 30_000 })).stdout) as Array<{
      Config: { User: string; Entrypoint: string[]; Volumes: Record<string, unknown> };
    }>;

    const node = (await run("node --version")).stdout.trim();
    const sources = (await run("find /opt/berth -name '*.ts' -not -path '*/node_modules/*' | wc -l; ls /opt/berth/node_modules")).stdout;

    expect(node).toMatch(/^v20\.(19|[2-9]\d)\./);
    expect(sources.split("\n")[0]).toBe("0");
    expect(sources).not.toMatch(/^(tsx|typescript|esbuild)$/m);
    expect(inspect[0]?.Config.User).toBe("root");
    expect(inspect[0]?.Config.Entrypoint).toEqual(["/usr/bin/tini", "--", "berth"]);
    expect(Object.keys(inspect[0]?.Config.Volumes ?? {})).toEqual(["/var/lib/berth"]);
  });
});
