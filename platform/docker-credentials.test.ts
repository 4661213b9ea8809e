import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerCredentials, credentialKey, dockerConfigDir } from "./docker-credentials.ts";

const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString("base64");

describe("docker credentials (the docker CLI's config.json, credsStore and credHelpers)", () => {
  let dir: string;
  let binDir: string;
  let env: NodeJS.ProcessEnv;

  /** A real `docker-credential-<name>` script: answers `get` for one server, "not found" otherwise, and logs what it was asked. */
  async function helper(name: string, server: string, answer: object): Promise<string> {
    const log = join(dir, `${name}.log`);
    await writeFile(
      join(binDir, `docker-credential-${name}`),
      [
        "#!/bin/sh",
        `echo "$@" >> ${log}`,
        "read -r server",
        `echo "$server" >> ${log}`,
        `if [ "$server" = "${server}" ]; then echo '${JSON.stringify(answer)}'; exit 0; fi`,
        "echo 'credentials not found in native keychain'",
        "exit 1",
        "",
      ].join("\n"),
    );
    await chmod(join(binDir, `docker-credential-${name}`), 0o755);
    return log;
  }

  async function config(json: object | string): Promise<string> {
    const configDir = await mkdtemp(join(dir, "config-"));
    await writeFile(join(configDir, "config.json"), typeof json === "string" ? json : JSON.stringify(json));
    return configDir;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-creds-"));
    binDir = join(dir, "bin");
    await mkdir(binDir);
    env = { PATH: `${binDir}:${process.env["PATH"] ?? ""}`, HOME: dir };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads `auths` entries, whether keyed by host or by URL", async () => {
    const configDir = await config({
      auths: { "127.0.0.1:5000": { auth: basic("ci", "p:ss") }, "https://ghcr.io": { auth: basic("me", "ghp") } },
    });
    const creds = createDockerCredentials({ configDir, env });

    expect(await creds.forHost("127.0.0.1:5000")).toEqual({ kind: "basic", username: "ci", password: "p:ss" });
    expect(await creds.forHost("ghcr.io")).toEqual({ kind: "basic", username: "me", password: "ghp" });
    expect(await creds.forHost("quay.io")).toBeUndefined();
  });

  it("finds Docker Hub's credentials under its historical key, and an identity token as such", async () => {
    const configDir = await config({ auths: { "https://index.docker.io/v1/": { identitytoken: "refresh-me" } } });
    expect(credentialKey("docker.io")).toBe("https://index.docker.io/v1/");
    expect(await createDockerCredentials({ configDir, env }).forHost("docker.io")).toEqual({ kind: "identityToken", token: "refresh-me" });
  });

  it("uses $DOCKER_CONFIG, else ~/.docker, and has no credentials when there is no config file", async () => {
    expect(dockerConfigDir({ DOCKER_CONFIG: "/etc/berth/docker", HOME: "/root" })).toBe("/etc/berth/docker");
    expect(dockerConfigDir({ HOME: "/home/ops" })).toBe("/home/ops/.docker");
    const configDir = await config({ auths: { "reg.example": { auth: basic("a", "b") } } });
    expect(await createDockerCredentials({ env: { ...env, DOCKER_CONFIG: configDir } }).forHost("reg.example")).toMatchObject({
      username: "a",
    });
    expect(await createDockerCredentials({ env: { ...env, DOCKER_CONFIG: join(dir, "nowhere") } }).forHost("reg.example")).toBeUndefined();
  });

  it("asks the credHelpers helper for its host (server on stdin, only `get` as argument) before credsStore and auths", async () => {
    const log = await helper("berthtest-one", "reg.example", { ServerURL: "reg.example", Username: "robot", Secret: "from-helper" });
    await helper("berthtest-store", "other.example", { Username: "store-user", Secret: "from-store" });
    const configDir = await config({
      auths: { "reg.example": { auth: basic("file", "from-file") } },
      credsStore: "berthtest-store",
      credHelpers: { "reg.example": "berthtest-one" },
    });
    const creds = createDockerCredentials({ configDir, env });

    expect(await creds.forHost("reg.example")).toEqual({ kind: "basic", username: "robot", password: "from-helper" });
    expect(await creds.forHost("other.example")).toEqual({ kind: "basic", username: "store-user", password: "from-store" });
    // credsStore is authoritative for hosts without a credHelper, as in the docker CLI: its "not found" means anonymous.
    expect(await creds.forHost("third.example")).toBeUndefined();
    expect((await readFile(log, "utf8")).split("\n")).toEqual(["get", "reg.example", ""]);
  });

  it("reads the `<token>` user name of a helper's answer as an identity token", async () => {
    await helper("berthtest-token", "reg.example", { Username: "<token>", Secret: "refresh-token" });
    const configDir = await config({ credsStore: "berthtest-token" });
    expect(await createDockerCredentials({ configDir, env }).forHost("reg.example")).toEqual({
      kind: "identityToken",
      token: "refresh-token",
    });
  });

  it("names the file when config.json is not JSON, and the helper when it is missing or fails, without its output", async () => {
    const broken = await config("{ not json");
    await expect(createDockerCredentials({ configDir: broken, env }).forHost("reg.example")).rejects.toThrow(
      `${join(broken, "config.json")}: is not valid JSON`,
    );
    const wrongType = await config({ auths: { "reg.example": { auth: 42 } } });
    await expect(createDockerCredentials({ configDir: wrongType, env }).forHost("reg.example")).rejects.toThrow(/config\.json: .*auths/s);
    const missing = await config({ credsStore: "berthtest-absent" });
    await expect(createDockerCredentials({ configDir: missing, env }).forHost("reg.example")).rejects.toThrow(
      "docker-credential-berthtest-absent could not run",
    );
    await writeFile(join(binDir, "docker-credential-berthtest-garbage"), "#!/bin/sh\necho 'secret-ish garbage'\n");
    await chmod(join(binDir, "docker-credential-berthtest-garbage"), 0o755);
    const garbage = await config({ credsStore: "berthtest-garbage" });
    const error = await createDockerCredentials({ configDir: garbage, env })
      .forHost("reg.example")
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("not JSON");
    expect((error as Error).message).not.toContain("secret-ish");
  });
});
