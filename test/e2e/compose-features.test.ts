// Real-engine tests of the compose features people use, through `berth apply` (and the loader):
// .env + env_file interpolation, profiles, depends_on service_healthy, file secrets and configs,
// extends and include, named and external volumes, external networks, init, restart,
// healthcheck overrides, deploy.resources limits; and what validation refuses.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApplyCommand } from "../../controller/commands/apply-command.ts";
import { validateCommand } from "../../controller/commands/validate-command.ts";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import { createComposeNormalizer } from "../../desired-state/normalize-compose.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { makeTempDir, removeDir } from "../support/git-fixture.ts";
import { docker, serviceContainerIds } from "../support/stacks-harness.ts";

const HEALTH = {
  test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"],
  interval: "1s",
  timeout: "1s",
  retries: 2,
  start_period: "20s",
};

describe("compose features", () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const stack = `compose-feat-${suffix}`;
  const network = `compose-feat-net-${suffix}`;
  const volume = `compose-feat-vol-${suffix}`;
  let dir: string;
  let root: string;
  let stateDir: string;
  const apply = createApplyCommand({ stackContext: { pollMs: 250 } });

  function files(site: string, webEnv: string): Record<string, string> {
    const compose = {
      include: ["cache.yaml"],
      services: {
        db: {
          extends: { file: "../../common/base.yaml", service: "base" },
          command: ["sh", "-c", "mkdir -p /www && sleep 3 && echo ok > /www/health && exec httpd -f -p 8080 -h /www"],
          healthcheck: HEALTH,
          volumes: ["dbdata:/var/lib/db"],
        },
        web: {
          extends: { file: "../../common/base.yaml", service: "base" },
          image: "berth-test/busybox:${BUSYBOX_TAG}",
          env_file: ["env/web.env"],
          depends_on: { db: { condition: "service_healthy" } },
          // Healthy only if db answered when web started: berth started it after db was healthy.
          command: [
            "sh",
            "-c",
            "mkdir -p /www && if wget -q -O /dev/null http://db:8080/health; then echo ok > /www/health; fi; exec httpd -f -p 8080 -h /www",
          ],
          healthcheck: { ...HEALTH, start_period: "0s" },
          secrets: ["token"],
          configs: [{ source: "site", target: "/etc/site.conf" }, "greeting"],
          deploy: { resources: { limits: { memory: "64M", cpus: "0.5" } } },
          networks: ["default", "ext"],
          volumes: ["shared:/shared"],
        },
        debug: { profiles: ["debug"], image: "compose-feat-does-not-exist:1" },
        extra: {
          profiles: ["extras"],
          image: "berth-test/busybox:1",
          command: ["sleep", "3600"],
          init: true,
          stop_grace_period: "1s",
          healthcheck: { disable: true },
        },
      },
      networks: { ext: { external: true, name: network } },
      volumes: { dbdata: {}, shared: { external: true, name: volume } },
      secrets: { token: { file: "./token.txt" } },
      configs: { site: { file: "./site.conf" }, greeting: { content: "hello ${GREETING_NAME}" } },
    };
    const dirOf = `stacks/${stack}`;
    return {
      "berth.yaml": "version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 30s, monitor: 1s }\n",
      "profiles/box.json": "{}\n",
      "common/base.yaml":
        "services:\n  base:\n    image: berth-test/busybox:1\n    init: true\n    restart: unless-stopped\n    stop_grace_period: 1s\n",
      [`${dirOf}/compose.yaml`]: `${JSON.stringify(compose, null, 2)}\n`,
      [`${dirOf}/cache.yaml`]:
        `services:\n  cache:\n    image: berth-test/busybox:1\n    command: [sleep, "3600"]\n    ` + `stop_grace_period: 1s\n`,
      [`${dirOf}/.env`]: "BUSYBOX_TAG=1\nCOMPOSE_PROFILES=extras\nGREETING_NAME=world\nWEB_MODE=fast\n",
      [`${dirOf}/env/web.env`]: webEnv,
      [`${dirOf}/token.txt`]: "s3cret\n",
      [`${dirOf}/site.conf`]: site,
    };
  }

  async function write(content: Record<string, string>): Promise<void> {
    for (const [name, text] of Object.entries(content)) {
      await mkdir(join(root, name, ".."), { recursive: true });
      await writeFile(join(root, name), text);
    }
  }

  async function run(): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const code = await apply.run(
      { positionals: [root], flags: { machine: "box", "state-dir": stateDir } },
      { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
    );
    return { code, out: out.join("") };
  }

  function ids(): Promise<Record<string, string>> {
    return serviceContainerIds(stack);
  }

  async function inspect(id: string, format: string): Promise<string> {
    return (await docker("inspect", "--format", format, id)).trim();
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    dir = await makeTempDir("compose-feat");
    root = join(dir, "desired");
    stateDir = join(dir, "state");
    await docker("network", "create", network);
    await docker("volume", "create", volume);
    await write(files("site v1\n", "MODE=${WEB_MODE}\nPLAIN=1\n"));
  }, 60_000);

  afterAll(async () => {
    const all = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${stack}`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    if (all.length > 0) await docker("rm", "-f", ...all).catch(() => "");
    await docker("network", "rm", `${stack}_default`, network).catch(() => "");
    await docker("volume", "rm", `${stack}_dbdata`, volume).catch(() => "");
    const tags = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${stack}-*`).catch(() => ""))
      .split("\n")
      .filter(Boolean);
    for (const tag of tags) await docker("rmi", tag).catch(() => "");
    await removeDir(dir);
  });

  it(
    "runs a stack with .env, env_file, profiles, depends_on healthy, secrets, configs, extends, include, volumes, networks, " +
      "init, restart and limits",
    async () => {
      const { code, out } = await run();
      expect(code, out).toBe(0);
      const running = await ids();
      // Profiles: the inactive one is not there, the one COMPOSE_PROFILES (.env) activates is; include adds cache.
      expect(Object.keys(running).sort()).toEqual(["cache", "db", "extra", "web"]);
      const web = running["web"] ?? "";
      // web is healthy: db was healthy before berth started it (depends_on condition: service_healthy).
      expect(await inspect(web, "{{.State.Health.Status}}")).toBe("healthy");
      // .env interpolation (image tag, env_file values) and env_file.
      // (berth runs an image it does not build pinned to its image id: the one BUSYBOX_TAG named.)
      expect(await inspect(web, "{{.Image}}")).toBe(
        (await docker("image", "inspect", "--format", "{{.Id}}", "berth-test/busybox:1")).trim(),
      );
      const env = await inspect(web, '{{join .Config.Env " "}}');
      expect(env).toContain("MODE=fast");
      expect(env).toContain("PLAIN=1");
      // extends (from a file outside the stack's folder): init and restart.
      expect(await inspect(web, "{{.HostConfig.Init}} {{.HostConfig.RestartPolicy.Name}}")).toBe("true unless-stopped");
      expect(await inspect(running["db"] ?? "", "{{.HostConfig.Init}} {{.HostConfig.RestartPolicy.Name}}")).toBe("true unless-stopped");
      // deploy.resources.limits.
      expect(await inspect(web, "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}")).toBe("67108864 500000000");
      // Healthcheck override and disable.
      expect(await inspect(web, "{{json .Config.Healthcheck.Test}}")).toBe(JSON.stringify(HEALTH.test));
      expect(await inspect(running["extra"] ?? "", "{{json .Config.Healthcheck.Test}}")).toBe('["NONE"]');
      // Secrets and configs from files, and an inline config with interpolation.
      expect((await docker("exec", web, "cat", "/run/secrets/token", "/etc/site.conf", "/greeting")).trim()).toBe(
        "s3cret\nsite v1\nhello world",
      );
      // External network and volume, named volume.
      expect(await inspect(web, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}")).toContain(network);
      expect(await inspect(web, "{{range .Mounts}}{{.Name}} {{end}}")).toContain(volume);
      expect(await inspect(running["db"] ?? "", "{{range .Mounts}}{{.Name}} {{end}}")).toContain(`${stack}_dbdata`);
    },
    300_000,
  );

  it("rolls only web when its config file or env_file changes, and keeps db's named volume", async () => {
    const before = await ids();
    await docker("exec", before["db"] ?? "", "sh", "-c", "echo kept > /var/lib/db/row");
    await write(files("site v2\n", "MODE=${WEB_MODE}\nPLAIN=1\n"));
    expect((await run()).code).toBe(0);
    const afterSite = await ids();
    expect(afterSite["web"]).not.toBe(before["web"]);
    expect({ ...afterSite, web: "" }).toEqual({ ...before, web: "" });
    expect((await docker("exec", afterSite["web"] ?? "", "cat", "/etc/site.conf")).trim()).toBe("site v2");

    await write(files("site v2\n", "MODE=${WEB_MODE}\nPLAIN=2\n"));
    expect((await run()).code).toBe(0);
    const afterEnv = await ids();
    expect(afterEnv["web"]).not.toBe(afterSite["web"]);
    expect(await inspect(afterEnv["web"] ?? "", '{{join .Config.Env " "}}')).toContain("PLAIN=2");
    expect(afterEnv["db"]).toBe(before["db"]);
    expect((await docker("exec", afterEnv["db"] ?? "", "cat", "/var/lib/db/row")).trim()).toBe("kept");
  }, 300_000);

  it("normalises again when an env_file in a subfolder changes (one normaliser, as in the agent)", async () => {
    const compose = createComposeNormalizer(createComposeCli());
    const envOf = async (): Promise<unknown> => {
      const loaded = await loadDesiredState(root, { compose });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
      return loaded.state.stacks[0]?.services.find((s) => s.name === "web")?.config["environment"];
    };
    await write({ [`stacks/${stack}/env/web.env`]: "MODE=${WEB_MODE}\nPLAIN=3\n" });
    expect(await envOf()).toEqual({ MODE: "fast", PLAIN: "3" });
    await write({ [`stacks/${stack}/env/web.env`]: "MODE=${WEB_MODE}\nPLAIN=4\n" });
    expect(await envOf()).toEqual({ MODE: "fast", PLAIN: "4" });
  });

  it("does not start a service whose service_healthy dependency never turns healthy", async () => {
    const gated = join(dir, "gated");
    const name = `compose-feat-gate-${suffix}`;
    const compose = {
      services: {
        db: {
          image: "berth-test/busybox:1",
          command: ["sleep", "3600"],
          stop_grace_period: "1s",
          healthcheck: { ...HEALTH, start_period: "0s" },
        },
        web: {
          image: "berth-test/busybox:1",
          command: ["sleep", "3600"],
          stop_grace_period: "1s",
          depends_on: { db: { condition: "service_healthy" } },
        },
      },
    };
    for (const [file, text] of Object.entries({
      "berth.yaml": "version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 4s, monitor: 1s }\n",
      "profiles/box.json": "{}\n",
      [`stacks/${name}/compose.yaml`]: JSON.stringify(compose),
    })) {
      await mkdir(join(gated, file, ".."), { recursive: true });
      await writeFile(join(gated, file), text);
    }
    try {
      const out: string[] = [];
      const code = await apply.run(
        { positionals: [gated], flags: { machine: "box", "state-dir": join(dir, "gated-state") } },
        { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env: { BERTH_LOG_LEVEL: "silent" } },
      );
      expect(code).toBe(1);
      expect(out.join("")).toContain("web: DependencyNotReady");
      const services = (
        await docker(
          "ps",
          "-a",
          "--filter",
          `label=com.docker.compose.project=${name}`,
          "--format",
          '{{.Label "com.docker.compose.service"}}',
        )
      )
        .split("\n")
        .filter(Boolean);
      expect(services).toEqual(["db"]);
    } finally {
      const all = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${name}`).catch(() => ""))
        .split("\n")
        .filter(Boolean);
      if (all.length > 0) await docker("rm", "-f", ...all).catch(() => "");
      await docker("network", "rm", `${name}_default`).catch(() => "");
    }
  }, 120_000);

  it("refuses at validation what berth cannot run, naming the file, line and why", async () => {
    const bad = join(dir, "bad");
    const compose = [
      "services:",
      "  job:",
      "    image: berth-test/busybox:1",
      "  web:",
      "    image: berth-test/busybox:1",
      "    depends_on:",
      "      job:",
      "        condition: service_completed_successfully",
      "    secrets: [token]",
      "secrets:",
      "  token:",
      "    environment: TOKEN",
      "",
    ].join("\n");
    for (const [name, text] of Object.entries({
      "berth.yaml": "version: 1\nmachines:\n  box: { profile: box }\n",
      "profiles/box.json": "{}\n",
      "stacks/compose-feat-bad/compose.yaml": compose,
    })) {
      await mkdir(join(bad, name, ".."), { recursive: true });
      await writeFile(join(bad, name), text);
    }
    const out: string[] = [];
    const code = await validateCommand.run(
      { positionals: [bad], flags: {} },
      { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env: {} },
    );
    expect(code).toBe(1);
    const text = out.join("");
    expect(text).toContain(
      "stacks/compose-feat-bad/compose.yaml:8: services.web.depends_on.job.condition: service_completed_successfully is not supported",
    );
    expect(text).toContain(
      "stacks/compose-feat-bad/compose.yaml:12: secrets.token.environment: the value would come from the agent's environment",
    );
  });
});
