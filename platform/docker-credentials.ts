// The host's Docker registry credentials, read the way the docker CLI reads them: `credHelpers`,
// then `credsStore`, then `auths` of $DOCKER_CONFIG/config.json (or ~/.docker/config.json).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { runCommand } from "./run-command.ts";

/** A user name and password, or (`identityToken`) an OAuth refresh token from `docker login`. */
export type RegistryCredentials = { kind: "basic"; username: string; password: string } | { kind: "identityToken"; token: string };

export type DockerCredentials = {
  /** Credentials for a registry host (`ghcr.io`, `127.0.0.1:5000`); undefined when the host has none (anonymous). */
  forHost(host: string): Promise<RegistryCredentials | undefined>;
};

export type DockerCredentialsOptions = {
  /** Directory of config.json; default $DOCKER_CONFIG, else ~/.docker (read at each look-up). */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  helperTimeoutMs?: number;
};

/** The key Docker Hub's credentials are stored under. */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

const authEntrySchema = z.looseObject({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});

const configSchema = z.looseObject({
  auths: z.record(z.string(), authEntrySchema).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});

type DockerConfig = z.infer<typeof configSchema>;

const helperAnswerSchema = z.looseObject({ Username: z.string().optional(), Secret: z.string() });

/** The docker config directory for this environment: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env["DOCKER_CONFIG"] || join(env["HOME"] || homedir(), ".docker");
}

/** The key a host's credentials are stored under (Docker Hub has its historical URL). */
export function credentialKey(host: string): string {
  return DOCKER_HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host;
}

/** `auths` keys may be URLs (`https://ghcr.io`, `http://127.0.0.1:5000/v1/`): the host they name. */
function hostOfKey(key: string): string {
  if (key === DOCKER_HUB_KEY) return key;
  return key.replace(/^[a-z]+:\/\//i, "").split("/")[0] ?? key;
}

/** Credentials from an `auths` entry: `auth` is base64("user:password"), or an identity token. */
export function credentialsFromAuthEntry(entry: z.infer<typeof authEntrySchema>): RegistryCredentials | undefined {
  if (entry.identitytoken) return { kind: "identityToken", token: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { kind: "basic", username: entry.username, password: entry.password };
  return undefined;
}

/** A credential helper's answer; the user name `<token>` marks an identity token (docker's convention). */
export function credentialsFromHelper(answer: z.infer<typeof helperAnswerSchema>): RegistryCredentials | undefined {
  if (!answer.Secret) return undefined;
  if (answer.Username === "<token>") return { kind: "identityToken", token: answer.Secret };
  return { kind: "basic", username: answer.Username ?? "", password: answer.Secret };
}

export function createDockerCredentials(options: DockerCredentialsOptions = {}): DockerCredentials {
  const env = options.env ?? process.env;
  const timeoutMs = options.helperTimeoutMs ?? 10_000;

  async function readConfig(): Promise<{ file: string; config: DockerConfig }> {
    const file = join(options.configDir ?? dockerConfigDir(env), "config.json");
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { file, config: {} };
      throw new Error(`${file}: cannot be read (${(error as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${file}: is not valid JSON (${(error as Error).message})`);
    }
    const parsed = configSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
    return { file, config: parsed.data };
  }

  /** `docker-credential-<name> get`, the server on stdin, JSON on stdout; "not found" is no credentials. */
  async function askHelper(name: string, key: string): Promise<RegistryCredentials | undefined> {
    const program = `docker-credential-${name}`;
    const result = await runCommand(program, ["get"], { input: key, timeoutMs, allowFailure: true, env }).catch((error: unknown) => {
      throw new Error(`credential helper ${program} could not run: ${(error as Error).message}`);
    });
    if (result.exitCode !== 0) {
      // The protocol's "not found" answer: credentials.NewErrCredentialsNotFound ("credentials not found in native keychain").
      if (/credentials not found/i.test(result.stdout + result.stderr)) return undefined;
      const why = result.stderr.trim().split("\n").pop() ?? "";
      throw new Error(`credential helper ${program} failed for ${key} (exit ${result.exitCode}${why ? `: ${why.slice(0, 200)}` : ""})`);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(result.stdout);
    } catch {
      throw new Error(`credential helper ${program} answered for ${key} with something that is not JSON`);
    }
    const parsed = helperAnswerSchema.safeParse(answer);
    if (!parsed.success) throw new Error(`credential helper ${program} answered for ${key} without a Secret`);
    return credentialsFromHelper(parsed.data);
  }

  return {
    async forHost(host) {
      const key = credentialKey(host);
      const { config } = await readConfig();
      const helper = config.credHelpers?.[key] ?? config.credsStore;
      if (helper) return askHelper(helper, key);
      const entry = Object.entries(config.auths ?? {}).find(([k]) => hostOfKey(k) === key)?.[1];
      return entry ? credentialsFromAuthEntry(entry) : undefined;
    },
  };
}
