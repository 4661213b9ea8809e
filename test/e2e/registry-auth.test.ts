// Real engine + a registry with authentication over TLS (self-signed certificate the engine trusts via
// certs.d), once with htpasswd (Basic) and once with distribution's `auth: token` (Bearer realm, a
// JWT-issuing token server): host A pushes with the host's Docker credentials, host B pulls through a
// credential helper and builds nothing; wrong credentials are RegistryUnauthorized, never "absent",
// and the secret appears nowhere: state dir, logs, metrics, process arguments.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommand } from "../../controller/commands/build-command.ts";
import { createBerthMetrics } from "../../metrics/berth-metrics.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { processEngineSelection, selectEngine } from "../../platform/engine-selection.ts";
import { createLogger } from "../../platform/logger.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import { createImagesReconciler } from "../../reconcilers/images/images-reconciler.ts";
import { createRegistryClient } from "../../reconcilers/images/registry-client.ts";
import { createDockerCredentials } from "../../platform/docker-credentials.ts";
import type { ImagesResult } from "../../reconcilers/images/images-reconciler.ts";
import { getCondition } from "../../status/conditions.ts";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { createWorld, inspectLocal } from "../support/images-world.ts";
import type { World } from "../support/images-world.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";
import { openSharedHostLock } from "../../status/shared-host-lock.ts";

const USER = "registry-ci";
const PASSWORD = "registry-Pa55-word-x7";
const WRONG = "registry-Wrong-pass-q9";

/** Every way a secret could leak: as is, and as the base64 of user:password docker configs and Basic headers carry. */
const SECRETS = [
  PASSWORD,
  WRONG,
  Buffer.from(`${USER}:${PASSWORD}`).toString("base64"),
  Buffer.from(`${USER}:${WRONG}`).toString("base64"),
];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function httpsGet(url: string, ca: string, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization }, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Tags of a repository, asked over TLS as the test user (Basic, or a token from the token server): the test's own view of the registry. */
async function registryTags(registry: LocalRegistry, repository: string): Promise<string[]> {
  const auth = registry.auth;
  if (!auth) throw new Error("registry without auth");
  const basic = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
  let authorization = basic;
  if (auth.tokenServer) {
    const tokenUrl = `${auth.tokenServer.realm}?service=${auth.tokenServer.service}&scope=repository:${repository}:pull`;
    authorization = `Bearer ${(JSON.parse((await httpsGet(tokenUrl, auth.caPem, basic)).body) as { token: string }).token}`;
  }
  const res = await httpsGet(`https://${registry.host}/v2/${repository}/tags/list`, auth.caPem, authorization);
  if (res.status === 404) return [];
  if (res.status !== 200) throw new Error(`tags/list answered ${res.status}`);
  return (JSON.parse(res.body) as { tags: string[] | null }).tags ?? [];
}

describe.each(["htpasswd", "token"] as const)(
  "images reconciler with an authenticated TLS registry (%s) and the host's Docker credentials (real engine)",
  (mode) => {
    let world: World;
    let registry: LocalRegistry;
    let dir: string;
    let argsLog: string;
    let helperLog: string;
    let dockerWrapper: string;
    const engine = createDockerEngine();
    let builder: ReturnType<typeof countingBuilder>;
    const saved = { DOCKER_CONFIG: process.env["DOCKER_CONFIG"], PATH: process.env["PATH"] };
    let hostA: ImagesResult;

    /** A docker config dir with these contents; berth and the docker CLI read it through $DOCKER_CONFIG. */
    async function dockerConfig(name: string, config: object): Promise<string> {
      const configDir = join(dir, name);
      await mkdir(configDir, { recursive: true });
      await writeFile(join(configDir, "config.json"), JSON.stringify(config));
      return configDir;
    }

    async function host(options: {
      dockerConfig: string;
      logs?: string[];
      metrics?: ReturnType<typeof createBerthMetrics>;
    }): Promise<{ store: StatusStore; stateDir: string; reconcile: () => Promise<ImagesResult> }> {
      const stateDir = await world.newStateDir();
      const store = await openStatusStore(stateDir);
      const logs = options.logs;
      const logger = logs
        ? createLogger({
            level: "debug",
            destination: new Writable({
              write(chunk: Buffer, _enc, done) {
                logs.push(chunk.toString());
                done();
              },
            }),
          })
        : undefined;
      // Each host's docker children get its own DOCKER_CONFIG (berth resolves the process's engine selection once).
      const dockerEnv = selectEngine({ ...process.env, DOCKER_CONFIG: options.dockerConfig }).childEnv;
      const reconciler = createImagesReconciler({
        engine,
        store,
        lock: openSharedHostLock(stateDir),
        builder,
        dockerBinary: dockerWrapper,
        dockerEnv,
        ...(logger ? { logger } : {}),
        ...(options.metrics ? { events: options.metrics.events } : {}),
      });
      return {
        store,
        stateDir,
        reconcile: () => {
          process.env["DOCKER_CONFIG"] = options.dockerConfig;
          return reconciler.reconcile(world.state({ registry: registry.host }), "m1");
        },
      };
    }

    const tagOf = (result: ImagesResult, short: string): string => result.tags.get(world.name(short)) ?? "";

    beforeAll(async () => {
      await ensureBusyboxImage();
      registry = await startLocalRegistry({ auth: { username: USER, password: PASSWORD, token: mode === "token" } });
      dir = await mkdtemp(join(tmpdir(), "registry-auth-"));
      const bin = join(dir, "bin");
      await mkdir(bin);
      argsLog = join(dir, "docker-args.log");
      helperLog = join(dir, "helper.log");
      // Every docker command berth runs goes through this wrapper, which records its arguments.
      dockerWrapper = join(bin, "registry-docker");
      await writeFile(dockerWrapper, `#!/bin/sh\necho "$*" >> ${argsLog}\nexec docker "$@"\n`);
      // A credential helper: the docker CLI and berth find it on PATH as docker-credential-registrytest.
      await writeFile(
        join(bin, "docker-credential-registrytest"),
        [
          "#!/bin/sh",
          `echo "$*" >> ${helperLog}`,
          "read -r server",
          `echo "$server" >> ${helperLog}`,
          `if [ "$1" = get ] && [ "$server" = "${registry.host}" ]; then printf ` +
            `'{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}\\n' "$server"; exit 0; fi`,
          "echo 'credentials not found in native keychain'",
          "exit 1",
          "",
        ].join("\n"),
      );
      await chmod(dockerWrapper, 0o755);
      await chmod(join(bin, "docker-credential-registrytest"), 0o755);
      process.env["PATH"] = `${bin}:${saved.PATH ?? ""}`;
      builder = countingBuilder(createBuildxBuilder({ dockerBinary: dockerWrapper, env: processEngineSelection().childEnv }));
      world = await createWorld({ prefix: "registry", machines: { m1: "p1" }, profiles: { p1: { GPU_ARCH: "sm_86" } } });
      // No RUN: these builds need no container network.
      await world.write({ short: "base", dockerfile: "FROM berth-test/busybox:1\nCOPY base.txt /\n", files: { "base.txt": "base\n" } });
      await world.write({
        short: "app",
        dockerfile: `FROM ${world.name("base")}\nARG GPU_ARCH\nCOPY app.txt /\nLABEL arch=$GPU_ARCH\n`,
        files: { "app.txt": "v1\n" },
      });
      const good = await dockerConfig("good", {
        auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
      });
      builder.reset();
      hostA = await (await host({ dockerConfig: good })).reconcile();
    });

    afterAll(async () => {
      process.env["PATH"] = saved.PATH;
      if (saved.DOCKER_CONFIG === undefined) delete process.env["DOCKER_CONFIG"];
      else process.env["DOCKER_CONFIG"] = saved.DOCKER_CONFIG;
      await world?.cleanup();
      await registry?.destroy();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("host A builds and pushes with the credentials of `auths` in $DOCKER_CONFIG/config.json", async () => {
      expect(builder.calls.map((c) => c.image)).toEqual([world.name("base"), world.name("app")]);
      expect(hostA.outcomes.map((o) => [o.action, o.reason, o.pushed])).toEqual([
        ["build", "Built", true],
        ["build", "Built", true],
      ]);
      const appTags = await registryTags(registry, world.name("app"));
      expect(appTags).toContain(tagOf(hostA, "app").split(":").pop());
      expect(appTags).toContain("latest-m1");
      if (mode === "token") {
        // berth's own existence checks went through the Bearer flow: pull-scope tokens issued to the user.
        expect(registry.auth?.tokenServer?.requests).toContainEqual({
          user: USER,
          scopes: [`repository:${world.name("app")}:pull`],
          granted: true,
        });
      }
    });

    it("host B, whose credentials come from a credential helper, pulls the same tags and builds nothing", async () => {
      await world.removeImages();
      await writeFile(helperLog, "");
      const viaHelper = await dockerConfig("helper", { credHelpers: { [registry.host]: "registrytest" } });
      builder.reset();

      const hostB = await (await host({ dockerConfig: viaHelper })).reconcile();

      expect(builder.count()).toBe(0);
      expect(hostB.outcomes.map((o) => [o.action, o.reason])).toEqual([
        ["pull", "Pulled"],
        ["pull", "Pulled"],
      ]);
      expect(tagOf(hostB, "app")).toBe(tagOf(hostA, "app"));
      expect(await inspectLocal(tagOf(hostB, "app"))).toBeDefined();
      // Asked with `get` and the server on stdin, by berth's existence check and by the docker CLI's pulls.
      const asked = (await readFile(helperLog, "utf8")).trim().split("\n");
      expect(asked.length).toBeGreaterThanOrEqual(4);
      expect(new Set(asked)).toEqual(new Set(["get", registry.host]));
    });

    it(
      "with wrong credentials the images are RegistryUnauthorized (built locally, a source: pull image stalled), and the secret " +
        "is nowhere",
      async () => {
        await world.removeImages();
        await world.write({
          short: "ci-only",
          dockerfile: "FROM berth-test/busybox:1\nCOPY never.txt /\n",
          files: { "never.txt": "never built here\n" },
          source: "pull",
        });
        const wrong = await dockerConfig("wrong", {
          auths: { [registry.host]: { auth: Buffer.from(`${USER}:${WRONG}`).toString("base64") } },
        });
        const logs: string[] = [];
        const metrics = createBerthMetrics({ registry: new Registry(), store: { all: () => [] }, machine: "m1" });
        await writeFile(argsLog, "");
        builder.reset();
        const { store, stateDir, reconcile } = await host({ dockerConfig: wrong, logs, metrics });

        const result = await reconcile();

        world.images.delete("ci-only");
        expect(builder.calls.map((c) => c.image)).toEqual([world.name("base"), world.name("app")]);
        expect(result.outcomes.map((o) => [o.name, o.action, o.reason, o.pushed])).toEqual([
          [world.name("base"), "build", "BuiltLocally", false],
          [world.name("app"), "build", "BuiltLocally", false],
          [world.name("ci-only"), "stalled", "RegistryUnauthorized", false],
        ]);
        const app = store.get({ kind: "image", machine: "m1", name: world.name("app") })?.conditions ?? [];
        expect(getCondition(app, "Ready")).toMatchObject({ status: "True", reason: "BuiltLocally" });
        expect(getCondition(app, "Degraded")).toMatchObject({ status: "True", reason: "RegistryUnauthorized" });
        expect(getCondition(app, "Degraded")?.message).toMatch(new RegExp(`\\(401\\)|answered 401`));
        expect(getCondition(app, "Degraded")?.message).toContain(`with the Docker credentials for ${registry.host}`);
        if (mode === "token") expect(registry.auth?.tokenServer?.requests.at(-1)).toMatchObject({ user: USER, granted: false });
        const ciOnly = store.get({ kind: "image", machine: "m1", name: world.name("ci-only") })?.conditions ?? [];
        expect(getCondition(ciOnly, "Stalled")).toMatchObject({ status: "True", reason: "RegistryUnauthorized" });

        const stateText = (await Promise.all((await filesUnder(stateDir)).map((f) => readFile(f, "utf8")))).join("\n");
        const everything = {
          state: stateText,
          logs: logs.join(""),
          metrics: await metrics.registry.metrics(),
          args: await readFile(argsLog, "utf8"),
        };
        expect(everything.state).toContain("RegistryUnauthorized");
        expect(everything.logs).toContain("image planned");
        expect(everything.args).toContain("buildx build");
        for (const [where, text] of Object.entries(everything)) {
          for (const secret of SECRETS) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
        }
      },
    );
    it("`berth build --push` in CI with refused credentials exits 1 and says which images were not pushed", async () => {
      const root = join(dir, "cli-root");
      const image = `${world.prefix}-cli`;
      await mkdir(join(root, "images", image), { recursive: true });
      await writeFile(join(root, "berth.yaml"), `version: 1\nregistry: ${registry.host}\nmachines:\n  m1: { profile: p1 }\n`);
      await mkdir(join(root, "profiles"));
      await writeFile(join(root, "profiles", "p1.json"), "{}");
      await writeFile(join(root, "images", image, "Dockerfile"), "FROM berth-test/busybox:1\nCOPY cli.txt /\n");
      await writeFile(join(root, "images", image, "cli.txt"), "cli\n");
      await writeFile(join(root, "images", image, "image.yaml"), "{}\n");
      process.env["DOCKER_CONFIG"] = join(dir, "wrong");
      const out: string[] = [];
      const err: string[] = [];

      const code = await buildCommand.run(
        { positionals: [root], flags: { machine: "m1", push: true } },
        { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { ...process.env, BERTH_LOG_LEVEL: "silent" } },
      );

      expect(code).toBe(1);
      expect(out.join("")).toContain(`${image} `);
      expect(err.join("")).toContain(`${image}: not pushed: `);
      expect(err.join("")).toContain(`with the Docker credentials for ${registry.host}`);
      expect(await registryTags(registry, image)).toEqual([]);
    });
    it(
      "trusts the registry's certificate only through certs.d: without the entry the registry is unreachable, never plain " + "HTTP",
      async () => {
        const credentials = createDockerCredentials({ configDir: join(dir, "good") });
        const ref = `${registry.host}/${world.name("app")}:${tagOf(hostA, "app").split(":").pop() ?? ""}`;

        const trusted = await createRegistryClient({ credentials }).manifestExists(ref);
        const untrusted = await createRegistryClient({ credentials, certsDir: join(dir, "no-certs") }).manifestExists(ref);

        expect(trusted).toBe("present");
        expect(untrusted).toEqual({ unreachable: expect.stringMatching(/self[- ]signed certificate/) });
      },
    );
  },
);
