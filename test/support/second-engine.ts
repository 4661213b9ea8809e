// E2E helper: a second dockerd beside the default one (own data root, exec root, pidfile, socket
// and default bridge, no iptables), optionally also on TCP+TLS on 127.0.0.1 with a self-signed CA;
// the busybox test image is copied into it. It never touches the default engine: not
// `--bridge=none`, which makes dockerd delete the host's docker0 (the default engine's bridge).
// Also the COPY-only stack the engine tests apply to it.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../platform/run-command.ts";
import { BUSYBOX_IMAGE, ensureBusyboxImage } from "./busybox-image.ts";
import { freeLoopbackPort } from "./local-registry.ts";

export type SecondEngine = {
  /** unix:///… of its own socket. */
  socket: string;
  /** tcp://127.0.0.1:PORT with TLS, when asked for. */
  tls?: { host: string; clientCertPath: string };
  serverVersion: string;
  /** `docker` against this engine only (over its socket). */
  docker(...args: string[]): Promise<string>;
  stop(): Promise<void>;
};

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await runCommand("openssl", args, { cwd, timeoutMs: 30_000 });
}

/** A CA, a server certificate for IP 127.0.0.1 and a client certificate (ca.pem, cert.pem, key.pem in `client/`). */
async function makeCertificates(dir: string): Promise<{ server: string[]; client: string }> {
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(dir, "req", "-x509", ...key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=engine-test-ca");
  await writeFile(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await writeFile(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, subject] of [
    ["server", "/CN=127.0.0.1"],
    ["client", "/CN=engine-test-client"],
  ] as const) {
    await openssl(dir, "req", ...key, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", subject);
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-out",
      `${name}-cert.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
  }
  const client = join(dir, "client");
  await mkdir(client);
  await writeFile(join(client, "ca.pem"), await readFile(join(dir, "ca.pem")));
  await writeFile(join(client, "cert.pem"), await readFile(join(dir, "client-cert.pem")));
  await writeFile(join(client, "key.pem"), await readFile(join(dir, "client-key.pem")));
  return {
    server: [
      "--tlsverify",
      "--tlscacert",
      join(dir, "ca.pem"),
      "--tlscert",
      join(dir, "server-cert.pem"),
      "--tlskey",
      join(dir, "server-key.pem"),
    ],
    client,
  };
}

/** Whether the host still has the default engine's bridge (docker0). */
export async function defaultBridgePresent(): Promise<boolean> {
  return runCommand("ip", ["link", "show", "docker0"], { timeoutMs: 10_000, allowFailure: true }).then((r) => r.exitCode === 0);
}

/**
 * `gpuStandIn`: the engine an NVIDIA Container Toolkit host has, minus the GPU: an `nvidia` runtime
 * (runc itself) and a stand-in `nvidia-container-runtime-hook` on dockerd's PATH (it registers
 * dockerd's nvidia device driver, so GPU device requests are accepted; the hook does nothing).
 */
export async function startSecondEngine(options: { tls?: boolean; gpuStandIn?: boolean } = {}): Promise<SecondEngine> {
  const image = await ensureBusyboxImage();
  // Short path: the socket and containerd's shim sockets live under it.
  const dir = await mkdtemp(join(tmpdir(), "engine-d-"));
  const socket = `unix://${join(dir, "d.sock")}`;
  const hosts = ["-H", socket];
  let tls: SecondEngine["tls"];
  let tlsFlags: string[] = [];
  if (options.tls) {
    const certs = await makeCertificates(await mkdir(join(dir, "certs"), { recursive: true }).then(() => join(dir, "certs")));
    const host = `tcp://127.0.0.1:${await freeLoopbackPort()}`;
    hosts.push("-H", host);
    tlsFlags = certs.server;
    tls = { host, clientCertPath: certs.client };
  }
  // Its own default bridge on a subnet outside docker's default address pools.
  const bridge = `engine-br${randomBytes(2).toString("hex")}`;
  const ip = (...a: string[]) => runCommand("ip", a, { timeoutMs: 10_000 });
  await ip("link", "add", "name", bridge, "type", "bridge");
  await ip("addr", "add", `10.213.${randomBytes(1)[0] ?? 1}.1/24`, "dev", bridge);
  await ip("link", "set", bridge, "up");
  const args = [
    "--data-root",
    join(dir, "data"),
    "--exec-root",
    join(dir, "exec"),
    "--pidfile",
    join(dir, "dockerd.pid"),
    ...hosts,
    ...tlsFlags,
    "--bridge",
    bridge,
    "--default-address-pool",
    "base=10.214.0.0/16,size=24",
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--shutdown-timeout",
    "2",
  ];
  const log = join(dir, "dockerd.log");
  let env = process.env;
  if (options.gpuStandIn) {
    const bin = join(dir, "bin");
    await mkdir(bin);
    await writeFile(join(bin, "nvidia-container-runtime-hook"), "#!/bin/sh\ncat >/dev/null\nexit 0\n", { mode: 0o755 });
    const runc = (await runCommand("sh", ["-c", "command -v runc"], { timeoutMs: 10_000 })).stdout.trim();
    args.push("--add-runtime", `nvidia=${runc}`);
    env = { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}` };
  }
  let child: ChildProcess;
  try {
    child = spawn("dockerd", args, { stdio: ["ignore", "ignore", "pipe"], env });
  } catch (error) {
    await ip("link", "del", bridge).catch(() => undefined);
    throw error;
  }
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => void stderr.push(chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const docker = async (...a: string[]): Promise<string> =>
    (
      await runCommand("docker", ["-H", socket, ...a], {
        timeoutMs: 120_000,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root" },
      })
    ).stdout.trim();

  async function stop(): Promise<void> {
    // dockerd keeps its networks when it stops, and their bridges would outlive the data root:
    // note them now and delete their links once it has exited.
    const networks =
      child.exitCode === null
        ? (await docker("network", "ls", "-q", "--no-trunc", "--filter", "driver=bridge").catch(() => "")).split("\n").filter(Boolean)
        : [];
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    }
    await ip("link", "del", bridge).catch(() => undefined);
    for (const id of networks) await ip("link", "del", `br-${id.slice(0, 12)}`).catch(() => undefined);
    await writeFile(log, stderr.join("")).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  let serverVersion = "";
  for (let i = 0; i < 120 && !serverVersion; i += 1) {
    if (child.exitCode !== null) break;
    serverVersion = await docker("version", "--format", "{{.Server.Version}}").catch(() => "");
    if (!serverVersion) await new Promise((r) => setTimeout(r, 250));
  }
  if (!serverVersion) {
    await stop();
    throw new Error(`the second dockerd did not answer on ${socket}: ${stderr.join("").split("\n").slice(-8).join("\n")}`);
  }
  try {
    // The test image, copied from the default engine: nothing can be pulled here.
    await runCommand("sh", ["-c", `docker save ${image} | docker -H ${socket} load`], { timeoutMs: 120_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { socket, ...(tls ? { tls } : {}), serverVersion, docker, stop };
}

/** A desired state with one stack whose service berth builds (COPY-only) and runs with a healthcheck. */
export async function writeEngineStack(dir: string, stack: string): Promise<string> {
  const root = join(dir, stack);
  await mkdir(join(root, "stacks", stack, "app"), { recursive: true });
  await mkdir(join(root, "profiles"), { recursive: true });
  await writeFile(
    join(root, "berth.yaml"),
    "version: 1\nmachines:\n  box: { profile: box }\nrollout: { healthTimeout: 30s, monitor: 1s }\n",
  );
  // A profile value that names a variable of the agent's environment: compose must not see that environment.
  await writeFile(join(root, "profiles", "box.json"), JSON.stringify({ PROBE: "${ENGINE_LEAK_PROBE}" }));
  await writeFile(join(root, "stacks", stack, "app", "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nCOPY index.html /www/index.html\n`);
  await writeFile(join(root, "stacks", stack, "app", "index.html"), `${stack}\n`);
  await writeFile(
    join(root, "stacks", stack, "compose.yaml"),
    [
      "services:",
      "  web:",
      "    build: { context: ./app }",
      '    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]',
      "    stop_grace_period: 1s",
      "    healthcheck:",
      '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]',
      "      interval: 1s",
      "      timeout: 1s",
      "      retries: 2",
      "",
    ].join("\n"),
  );
  return root;
}

/** The stack's containers on an engine, as `docker ps` there sees them. */
export async function containersOn(
  run: (...args: string[]) => Promise<string>,
  stack: string,
): Promise<Array<{ id: string; image: string; status: string }>> {
  const out = await run("ps", "-a", "--filter", `label=com.docker.compose.project=${stack}`, "--format", "{{.ID}} {{.Image}} {{.Status}}");
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", image = "", ...status] = line.split(" ");
      return { id, image, status: status.join(" ") };
    });
}
