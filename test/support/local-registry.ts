// Test helper that owns a throwaway local OCI registry (Debian docker-registry) on a free 127.0.0.1 port for e2e tests,
// plain HTTP or (auth mode) htpasswd over TLS with a self-signed certificate the engine trusts via certs.d.
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTokenServer } from "./registry-token-server.ts";
import type { TokenServer } from "./registry-token-server.ts";

const execFileP = promisify(execFile);

/** Where the engine (and berth) look for a registry's CA: `<dir>/<host>/ca.crt`. */
export const DOCKER_CERTS_DIR = "/etc/docker/certs.d";

export type RegistryAuth = {
  username: string;
  password: string;
  /** PEM of the registry's self-signed certificate (also its CA). */
  caPem: string;
  /** The engine's trust entry, `/etc/docker/certs.d/<host>/`, removed by destroy(). */
  certsDir: string;
  /** Token mode: the Bearer realm the registry sends clients to. */
  tokenServer?: TokenServer;
};

export interface LocalRegistry {
  /** "127.0.0.1:PORT", usable as an image reference prefix. */
  host: string;
  port: number;
  /** Filesystem storage, kept across stop()/start()/readOnly(). */
  storageDir: string;
  /** stdout+stderr of the registry process (appended across restarts). */
  logFile: string;
  /** Stops the registry process; storage stays so start() can bring the same content back. */
  stop(): Promise<void>;
  /** (Re)starts on the same port and storage, writable; simulates the end of an outage. */
  start(): Promise<void>;
  /** Restarts on the same port and storage with storage.maintenance.readonly enabled (pushes fail, pulls work). */
  readOnly(): Promise<void>;
  /** Restarts on the same port and storage with storage.delete.enabled false (DELETE answers 405 UNSUPPORTED). */
  deleteDisabled(): Promise<void>;
  /** Stops the registry and removes its temp dirs (and its certs.d entry). */
  destroy(): Promise<void>;
  /** Set in auth mode: the one user htpasswd knows, and the TLS trust. */
  auth?: RegistryAuth;
}

type Secure = {
  htpasswd: string;
  cert: string;
  key: string;
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
};

const READY_TIMEOUT_MS = 10_000;
const POLL_MS = 50;
const STOP_TIMEOUT_MS = 5_000;

/** Picks a currently free port on 127.0.0.1 (bind port 0, read it, close). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a probe server on 127.0.0.1"));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/** The distribution 2.8 configuration used for test registries. */
export function registryConfig(port: number, storageDir: string, readOnly: boolean, secure?: Secure, deleteEnabled = true): string {
  const maintenance = readOnly ? ["  maintenance:", "    readonly:", "      enabled: true"] : [];
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storageDir}`,
    "  delete:",
    `    enabled: ${deleteEnabled}`,
    ...maintenance,
    ...(secure?.token
      ? [
          "auth:",
          "  token:",
          `    realm: ${secure.token.realm}`,
          `    service: ${secure.token.service}`,
          `    issuer: ${secure.token.issuer}`,
          `    rootcertbundle: ${secure.token.rootCertBundle}`,
        ]
      : secure
        ? ["auth:", "  htpasswd:", "    realm: berth-test", `    path: ${secure.htpasswd}`]
        : []),
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: berth-local-test-registry",
    ...(secure ? ["  tls:", `    certificate: ${secure.cert}`, `    key: ${secure.key}`] : []),
    "",
  ].join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tailOf(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Plain: GET /v2/ answers 200. Auth mode: GET https://…/v2/ (trusting caPem) answers 401 with a challenge. */
async function answersV2(host: string, caPem?: string): Promise<boolean> {
  if (caPem !== undefined) {
    return new Promise((resolve) => {
      const req = request(`https://${host}/v2/`, { ca: caPem, timeout: 1_000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 401 && /^(Basic|Bearer)/i.test(res.headers["www-authenticate"] ?? ""));
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(false));
      req.end();
    });
  }
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

function selfSigned(key: string, cert: string, subject: string, extra: string[] = []): Promise<unknown> {
  return execFileP(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", subject, ...extra],
    { timeout: 60_000 },
  );
}

/**
 * A self-signed certificate for IP 127.0.0.1 and either a bcrypt htpasswd line (password on stdin)
 * or, in token mode, a token server (TLS with the same certificate) and its JWT signing certificate.
 */
async function makeSecrets(
  workDir: string,
  auth: { username: string; password: string; token?: boolean },
): Promise<{ secure: Secure; caPem: string; tokenServer?: TokenServer }> {
  const secure: Secure = { htpasswd: join(workDir, "htpasswd"), cert: join(workDir, "cert.pem"), key: join(workDir, "key.pem") };
  await selfSigned(secure.key, secure.cert, "/CN=127.0.0.1", ["-addext", "subjectAltName=IP:127.0.0.1"]);
  const caPem = await readFile(secure.cert, "utf8");
  if (!auth.token) {
    const htpasswd = execFileP("htpasswd", ["-iBn", auth.username], { timeout: 30_000 });
    htpasswd.child.stdin?.end(auth.password);
    await writeFile(secure.htpasswd, (await htpasswd).stdout);
    return { secure, caPem };
  }
  const signingKey = join(workDir, "token-key.pem");
  const rootCertBundle = join(workDir, "token-cert.pem");
  await selfSigned(signingKey, rootCertBundle, "/CN=berth-test-token-issuer");
  const tokenServer = await startTokenServer({
    users: { [auth.username]: auth.password },
    tls: { certPem: caPem, keyPem: await readFile(secure.key, "utf8") },
    signing: { certPem: await readFile(rootCertBundle, "utf8"), keyPem: await readFile(signingKey, "utf8") },
    service: "berth-test-registry",
    issuer: "berth-test-issuer",
  });
  return {
    secure: { ...secure, token: { realm: tokenServer.realm, service: tokenServer.service, issuer: tokenServer.issuer, rootCertBundle } },
    caPem,
    tokenServer,
  };
}

/**
 * Starts a registry on a free 127.0.0.1 port with storage in a fresh temp dir; resolves once it answers.
 * `auth`: htpasswd with this one user (or, with `token: true`, distribution's `auth: token` with a
 * token server that knows this user), TLS with a self-signed certificate, trusted by the engine
 * through `/etc/docker/certs.d/127.0.0.1:PORT/ca.crt` (no engine restart needed).
 */
export async function startLocalRegistry(
  options: { auth?: { username: string; password: string; token?: boolean } } = {},
): Promise<LocalRegistry> {
  const workDir = await mkdtemp(join(tmpdir(), "berth-registry-"));
  const storageDir = join(workDir, "storage");
  const configFile = join(workDir, "config.yml");
  const logFile = join(workDir, "registry.log");
  const secrets = options.auth ? await makeSecrets(workDir, options.auth) : undefined;
  const secure = secrets?.secure;
  const certsDirOf = (p: number): string => join(DOCKER_CERTS_DIR, `127.0.0.1:${p}`);
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const killOnExit = (): void => {
    child?.kill("SIGKILL");
    // Never leave the engine trusting a certificate whose key is gone.
    if (secure && port !== 0) rmSync(certsDirOf(port), { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  async function spawnRegistry(readOnly: boolean, deleteEnabled = true): Promise<void> {
    if (child !== undefined) await stopRegistry();
    await writeFile(configFile, registryConfig(port, storageDir, readOnly, secure, deleteEnabled));
    const fd = openSync(logFile, "a");
    let proc: ChildProcess;
    try {
      proc = spawn("docker-registry", ["serve", configFile], { stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    child = proc;
    let spawnError: Error | undefined;
    let done = false;
    exited = new Promise<void>((resolve) => {
      proc.once("error", (err) => {
        spawnError = err;
        done = true;
        resolve();
      });
      proc.once("exit", () => {
        done = true;
        resolve();
      });
    });
    const host = `127.0.0.1:${port}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (done) {
        child = undefined;
        const why =
          spawnError !== undefined
            ? `could not run docker-registry (${spawnError.message}; install it with scripts/test-env.sh)`
            : `docker-registry exited during startup (code ${proc.exitCode ?? "?"}, signal ${proc.signalCode ?? "none"})`;
        throw new Error(`${why}; log ${logFile}:\n${tailOf(logFile)}`);
      }
      if (await answersV2(host, secrets?.caPem)) return;
      if (Date.now() > deadline) {
        await stopRegistry();
        throw new Error(
          `docker-registry did not answer http://${host}/v2/ within ${READY_TIMEOUT_MS / 1000} s; log ${logFile}:\n${tailOf(logFile)}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  async function stopRegistry(): Promise<void> {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }

  // The port is free when probed but could be taken before the registry binds it: retry a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freeLoopbackPort();
    try {
      if (secure) {
        await mkdir(certsDirOf(port), { recursive: true });
        await writeFile(join(certsDirOf(port), "ca.crt"), secrets?.caPem ?? "");
      }
      await spawnRegistry(false);
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
      if (secure) await rm(certsDirOf(port), { recursive: true, force: true });
    }
  }
  if (lastError !== undefined) {
    process.removeListener("exit", killOnExit);
    await secrets?.tokenServer?.close();
    throw lastError;
  }

  return {
    host: `127.0.0.1:${port}`,
    port,
    storageDir,
    logFile,
    stop: stopRegistry,
    start: () => spawnRegistry(false),
    readOnly: () => spawnRegistry(true),
    deleteDisabled: () => spawnRegistry(false, false),
    async destroy(): Promise<void> {
      await stopRegistry();
      process.removeListener("exit", killOnExit);
      if (secure) await rm(certsDirOf(port), { recursive: true, force: true });
      await secrets?.tokenServer?.close();
      await rm(workDir, { recursive: true, force: true });
    },
    ...(options.auth && secrets
      ? {
          auth: {
            username: options.auth.username,
            password: options.auth.password,
            caPem: secrets.caPem,
            certsDir: certsDirOf(port),
            ...(secrets.tokenServer ? { tokenServer: secrets.tokenServer } : {}),
          },
        }
      : {}),
  };
}
