// Test helper that owns a throwaway local OCI registry (Debian docker-registry) on a free 127.0.0.1 port for e2e tests.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
  /** Stops the registry and removes its temp dirs. */
  destroy(): Promise<void>;
}

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
export function registryConfig(port: number, storageDir: string, readOnly: boolean): string {
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
    "    enabled: true",
    ...maintenance,
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: berth-local-test-registry",
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

async function answersV2(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts a registry on a free 127.0.0.1 port with storage in a fresh temp dir; resolves once GET /v2/ answers 200. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  const workDir = await mkdtemp(join(tmpdir(), "berth-registry-"));
  const storageDir = join(workDir, "storage");
  const configFile = join(workDir, "config.yml");
  const logFile = join(workDir, "registry.log");
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const killOnExit = (): void => {
    child?.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  async function spawnRegistry(readOnly: boolean): Promise<void> {
    if (child !== undefined) await stopRegistry();
    await writeFile(configFile, registryConfig(port, storageDir, readOnly));
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
        const why = spawnError !== undefined
          ? `could not run docker-registry (${spawnError.message}; install it with scripts/test-env.sh)`
          : `docker-registry exited during startup (code ${proc.exitCode ?? "?"}, signal ${proc.signalCode ?? "none"})`;
        throw new Error(`${why}; log ${logFile}:\n${tailOf(logFile)}`);
      }
      if (await answersV2(host)) return;
      if (Date.now() > deadline) {
        await stopRegistry();
        throw new Error(`docker-registry did not answer http://${host}/v2/ within ${READY_TIMEOUT_MS / 1000} s; log ${logFile}:\n${tailOf(logFile)}`);
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
      await spawnRegistry(false);
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError !== undefined) {
    process.removeListener("exit", killOnExit);
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
    async destroy(): Promise<void> {
      await stopRegistry();
      process.removeListener("exit", killOnExit);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
