// Which Docker engine berth drives, resolved once in the ecosystem's order (DOCKER_HOST, else the
// docker context, else the default socket), and the minimal environment every docker child gets.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EngineSelectionError } from "./engine-selection-error.ts";

export const DEFAULT_ENDPOINT = "unix:///var/run/docker.sock";

export type EngineEndpoint =
  | { kind: "unix"; socketPath: string }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "ssh"; host: string; port?: number; username?: string };

export type EngineSelection = {
  /** The engine's address as docker writes it: unix:///…, tcp://host:port, ssh://user@host. */
  endpoint: string;
  address: EngineEndpoint;
  /** What chose it: DOCKER_HOST, a docker context, or nothing (the default socket). */
  source: "DOCKER_HOST" | "context" | "default";
  context?: string;
  /** Verified TLS: the directory holding ca.pem, cert.pem and key.pem. */
  tls?: { certPath: string };
  /**
   * The whole environment of every `docker`, `docker compose` and `docker buildx` child: PATH,
   * HOME, the DOCKER_* variables naming this engine, DOCKER_CONFIG (registry credentials, buildx
   * builders) and, for ssh://, the ssh agent. Never the agent's own environment.
   */
  childEnv: Readonly<Record<string, string>>;
};

export { EngineSelectionError } from "./engine-selection-error.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** Resolves the engine from an environment (the process's, or a CLI test's) and the docker config it names. */
export function selectEngine(env: Env = process.env): EngineSelection {
  const home = env["HOME"] || homedir();
  const configDir = env["DOCKER_CONFIG"] || join(home, ".docker");
  const host = env["DOCKER_HOST"]?.trim();
  if (host) {
    const tls = tlsFromEnv(env, configDir);
    return build(env, home, { endpoint: host, source: "DOCKER_HOST", what: "DOCKER_HOST", ...(tls ? { tls } : {}) });
  }
  const context = env["DOCKER_CONTEXT"]?.trim() || currentContext(configDir);
  if (context && context !== "default") {
    const fromContext = readContext(
      configDir,
      context,
      env["DOCKER_CONTEXT"] ? "DOCKER_CONTEXT" : `currentContext in ${join(configDir, "config.json")}`,
    );
    return build(env, home, { ...fromContext, source: "context", context, what: `docker context "${context}"` });
  }
  return build(env, home, { endpoint: DEFAULT_ENDPOINT, source: "default", what: "the default socket" });
}

let processSelection: EngineSelection | undefined;

/** The process environment's selection, resolved on first use (the agent, commands and tests that pass none). */
export function processEngineSelection(): EngineSelection {
  processSelection ??= selectEngine(process.env);
  return processSelection;
}

/** How logs and `berth status` name the engine: the endpoint and what chose it. */
export function describeEngine(selection: EngineSelection): string {
  const via =
    selection.source === "context"
      ? `docker context ${selection.context ?? ""}`
      : selection.source === "DOCKER_HOST"
        ? "DOCKER_HOST"
        : "default";
  return `${selection.endpoint} (${via}${selection.tls ? ", TLS" : ""})`;
}

function build(
  env: Env,
  home: string,
  input: { endpoint: string; source: EngineSelection["source"]; context?: string; what: string; tls?: { certPath: string } },
): EngineSelection {
  const address = parseEndpoint(input.endpoint, input.what);
  if (input.tls && address.kind !== "tcp")
    throw new EngineSelectionError(`${input.what}: TLS is only for tcp:// engines, not ${input.endpoint}`);
  const childEnv: Record<string, string> = { PATH: env["PATH"] || "/usr/local/bin:/usr/bin:/bin", HOME: home, DOCKER_HOST: input.endpoint };
  if (env["DOCKER_CONFIG"]) childEnv["DOCKER_CONFIG"] = env["DOCKER_CONFIG"];
  if (input.tls) Object.assign(childEnv, { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: input.tls.certPath });
  if (address.kind === "ssh" && env["SSH_AUTH_SOCK"]) childEnv["SSH_AUTH_SOCK"] = env["SSH_AUTH_SOCK"];
  return {
    endpoint: input.endpoint,
    address,
    source: input.source,
    ...(input.context ? { context: input.context } : {}),
    ...(input.tls ? { tls: input.tls } : {}),
    childEnv,
  };
}

/** unix:///path, tcp://host:port, ssh://[user@]host[:port]; anything else is refused with the variable's name. */
export function parseEndpoint(endpoint: string, what: string): EngineEndpoint {
  const scheme = /^([a-z]+):\/\//.exec(endpoint)?.[1];
  if (scheme === "unix") {
    const socketPath = endpoint.slice("unix://".length);
    if (!socketPath.startsWith("/"))
      throw new EngineSelectionError(`${what}: "${endpoint}" needs an absolute socket path (unix:///run/docker.sock)`);
    return { kind: "unix", socketPath };
  }
  if (scheme === "tcp" || scheme === "ssh") {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new EngineSelectionError(`${what}: "${endpoint}" is not a valid ${scheme}:// address`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (!host) throw new EngineSelectionError(`${what}: "${endpoint}" names no host`);
    if (scheme === "tcp") {
      if (!url.port) throw new EngineSelectionError(`${what}: "${endpoint}" names no port (tcp://HOST:2376)`);
      return { kind: "tcp", host, port: Number(url.port) };
    }
    return {
      kind: "ssh",
      host,
      ...(url.port ? { port: Number(url.port) } : {}),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    };
  }
  throw new EngineSelectionError(
    `${what}: "${endpoint}" is not an engine address berth can use (unix:///…, tcp://HOST:PORT or ssh://USER@HOST)`,
  );
}

function tlsFromEnv(env: Env, configDir: string): { certPath: string } | undefined {
  // The docker CLI's rule: any non-empty DOCKER_TLS_VERIFY turns verification on.
  if (env["DOCKER_TLS_VERIFY"]) {
    const certPath = env["DOCKER_CERT_PATH"] || configDir;
    for (const file of ["ca.pem", "cert.pem", "key.pem"]) {
      if (!existsSync(join(certPath, file)))
        throw new EngineSelectionError(
          `DOCKER_TLS_VERIFY is set but ${join(certPath, file)} is missing (DOCKER_CERT_PATH names the directory with ca.pem, ` +
            `cert.pem and key.pem)`,
        );
    }
    return { certPath };
  }
  if (env["DOCKER_TLS"])
    throw new EngineSelectionError(
      "DOCKER_TLS without DOCKER_TLS_VERIFY: berth talks to a TLS engine only with the server's certificate verified (set " +
        "DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)",
    );
  return undefined;
}

function currentContext(configDir: string): string | undefined {
  const file = join(configDir, "config.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined; // no docker config: the default engine
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new EngineSelectionError(`${file}: not valid JSON; cannot tell which docker context is current`);
  }
  const value = typeof config === "object" && config !== null && "currentContext" in config ? config.currentContext : undefined;
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

/** A context's docker endpoint from the context store (`contexts/meta/<sha256(name)>/meta.json`) and its TLS files, if any. */
function readContext(configDir: string, name: string, what: string): { endpoint: string; tls?: { certPath: string } } {
  const id = createHash("sha256").update(name).digest("hex");
  const metaFile = join(configDir, "contexts", "meta", id, "meta.json");
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(metaFile, "utf8"));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new EngineSelectionError(
      `docker context "${name}" (${what}) ${missing ? `not found: no ${metaFile}` : `is unreadable: ${metaFile}`}`,
    );
  }
  const docker = (meta as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } }).Endpoints?.docker;
  if (typeof docker?.Host !== "string" || !docker.Host)
    throw new EngineSelectionError(`docker context "${name}": ${metaFile} has no docker endpoint (Endpoints.docker.Host)`);
  const certPath = join(configDir, "contexts", "tls", id, "docker");
  if (!existsSync(join(certPath, "ca.pem"))) return { endpoint: docker.Host };
  if (docker.SkipTLSVerify === true)
    throw new EngineSelectionError(
      `docker context "${name}" skips TLS verification; berth talks to a TLS engine only with the server's certificate verified`,
    );
  for (const file of ["cert.pem", "key.pem"]) {
    if (!existsSync(join(certPath, file)))
      throw new EngineSelectionError(
        `docker context "${name}": ${join(certPath, file)} is missing (berth needs the client certificate and key beside ca.pem)`,
      );
  }
  return { endpoint: docker.Host, tls: { certPath } };
}
