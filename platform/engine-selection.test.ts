// Engine selection: DOCKER_HOST first, then the docker context (DOCKER_CONTEXT or currentContext
// from the context store), then the default socket; the child environment carries only that.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dockerodeOptions } from "./docker-engine.ts";
import { DEFAULT_ENDPOINT, selectEngine } from "./engine-selection.ts";

let home: string;
let config: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "engine-sel-"));
  config = join(home, ".docker");
  await mkdir(config, { recursive: true });
});
afterEach(async () => rm(home, { recursive: true, force: true }));

async function context(name: string, host: string, tls?: { skip?: boolean }): Promise<void> {
  const id = createHash("sha256").update(name).digest("hex");
  await mkdir(join(config, "contexts", "meta", id), { recursive: true });
  await writeFile(
    join(config, "contexts", "meta", id, "meta.json"),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: tls?.skip ?? false } } }),
  );
  if (tls) {
    await mkdir(join(config, "contexts", "tls", id, "docker"), { recursive: true });
    for (const file of ["ca.pem", "cert.pem", "key.pem"]) await writeFile(join(config, "contexts", "tls", id, "docker", file), "pem");
  }
}

describe("engine selection", () => {
  it("uses the default socket when nothing names an engine, and gives children only PATH, HOME and DOCKER_HOST", () => {
    const selection = selectEngine({ HOME: home, PATH: "/bin", BERTH_REPO_TOKEN: "secret", COMPOSE_PROJECT_NAME: "x" });
    expect(selection).toMatchObject({
      endpoint: DEFAULT_ENDPOINT,
      source: "default",
      address: { kind: "unix", socketPath: "/var/run/docker.sock" },
    });
    expect(selection.childEnv).toEqual({ PATH: "/bin", HOME: home, DOCKER_HOST: DEFAULT_ENDPOINT });
  });

  it("follows DOCKER_HOST before any context, and passes DOCKER_CONFIG on for registry credentials", async () => {
    await context("other", "unix:///run/other.sock");
    await writeFile(join(config, "config.json"), JSON.stringify({ currentContext: "other" }));
    const selection = selectEngine({
      HOME: home,
      PATH: "/bin",
      DOCKER_HOST: "unix:///run/user/1000/docker.sock",
      DOCKER_CONTEXT: "other",
      DOCKER_CONFIG: config,
    });
    expect(selection).toMatchObject({ source: "DOCKER_HOST", address: { kind: "unix", socketPath: "/run/user/1000/docker.sock" } });
    expect(selection.childEnv).toEqual({
      PATH: "/bin",
      HOME: home,
      DOCKER_HOST: "unix:///run/user/1000/docker.sock",
      DOCKER_CONFIG: config,
    });
  });

  it("reads the current context from the docker config and its endpoint from the context store", async () => {
    await context("rootless", "unix:///run/user/1000/docker.sock");
    await writeFile(join(config, "config.json"), JSON.stringify({ currentContext: "rootless", auths: {} }));
    const selection = selectEngine({ HOME: home, PATH: "/bin" });
    expect(selection).toMatchObject({ source: "context", context: "rootless", endpoint: "unix:///run/user/1000/docker.sock" });
    expect(selection.childEnv["DOCKER_HOST"]).toBe("unix:///run/user/1000/docker.sock");
  });

  it("prefers DOCKER_CONTEXT to the config's current context, and 'default' means the default socket", async () => {
    await context("a", "unix:///run/a.sock");
    await writeFile(join(config, "config.json"), JSON.stringify({ currentContext: "a" }));
    expect(selectEngine({ HOME: home, DOCKER_CONTEXT: "default" }).source).toBe("default");
    expect(selectEngine({ HOME: home }).endpoint).toBe("unix:///run/a.sock");
  });

  it("verifies TLS for a tcp engine: DOCKER_TLS_VERIFY with DOCKER_CERT_PATH, or a context's TLS files", async () => {
    const certs = join(home, "certs");
    await mkdir(certs);
    for (const file of ["ca.pem", "cert.pem", "key.pem"]) await writeFile(join(certs, file), `${file} body`);
    const fromEnv = selectEngine({ HOME: home, DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs });
    expect(fromEnv).toMatchObject({ address: { kind: "tcp", host: "127.0.0.1", port: 2376 }, tls: { certPath: certs } });
    expect(fromEnv.childEnv).toMatchObject({ DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs });
    expect(dockerodeOptions(fromEnv)).toMatchObject({
      protocol: "https",
      host: "127.0.0.1",
      port: 2376,
      ca: Buffer.from("ca.pem body"),
      socketPath: undefined,
    });

    await context("remote", "tcp://10.0.0.5:2376", {});
    const fromContext = selectEngine({ HOME: home, DOCKER_CONTEXT: "remote" });
    expect(fromContext.childEnv).toMatchObject({ DOCKER_HOST: "tcp://10.0.0.5:2376", DOCKER_TLS_VERIFY: "1" });
    expect(fromContext.tls?.certPath).toContain(join("contexts", "tls"));
  });

  it("parses ssh:// engines for dockerode (HTTP over berth's own ssh connection) and hands the ssh agent to children", () => {
    const selection = selectEngine({ HOME: home, DOCKER_HOST: "ssh://deploy@build-host:2222", SSH_AUTH_SOCK: "/tmp/agent.sock" });
    expect(selection.address).toEqual({ kind: "ssh", host: "build-host", port: 2222, username: "deploy" });
    expect(selection.childEnv["SSH_AUTH_SOCK"]).toBe("/tmp/agent.sock");
    const options = dockerodeOptions(selection);
    expect(options).toMatchObject({ protocol: "http", host: "build-host", port: 2222 });
    expect("agent" in options && options.agent instanceof Agent).toBe(true);
  });

  it("refuses what it cannot use with the variable or context at fault", async () => {
    expect(() => selectEngine({ HOME: home, DOCKER_HOST: "tcp://127.0.0.1" })).toThrow(/DOCKER_HOST: "tcp:\/\/127.0.0.1" names no port/);
    expect(() => selectEngine({ HOME: home, DOCKER_HOST: "npipe:////./pipe/docker_engine" })).toThrow(
      /DOCKER_HOST: .* is not an engine address berth can use/,
    );
    expect(() =>
      selectEngine({ HOME: home, DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: join(home, "none") }),
    ).toThrow(/ca\.pem is missing/);
    expect(() => selectEngine({ HOME: home, DOCKER_HOST: "tcp://127.0.0.1:2376", DOCKER_TLS: "1" })).toThrow(
      /DOCKER_TLS without DOCKER_TLS_VERIFY/,
    );
    expect(() => selectEngine({ HOME: home, DOCKER_CONTEXT: "nope" })).toThrow(/docker context "nope" \(DOCKER_CONTEXT\) not found/);
    await context("insecure", "tcp://10.0.0.5:2376", { skip: true });
    expect(() => selectEngine({ HOME: home, DOCKER_CONTEXT: "insecure" })).toThrow(/skips TLS verification/);
  });
});
