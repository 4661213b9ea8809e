// The Docker Engine API behind a small interface: one real implementation, dockerode, on the
// engine the selection names (platform/engine-selection.ts).
import { readFileSync } from "node:fs";
import type { Agent } from "node:http";
import { join } from "node:path";
import type Docker from "dockerode";
import { z } from "zod";
import { execInContainer } from "./container-exec.ts";
import type { ExecResult } from "./container-exec.ts";
import { engineGpuFacts } from "./engine-gpu-facts.ts";
import type { EngineGpuFacts } from "./engine-gpu-facts.ts";
import { processEngineSelection } from "./engine-selection.ts";
import { loadDockerode } from "./load-dockerode.ts";
import { createSshDialAgent } from "./ssh-dial-agent.ts";
import { createSshHostKeyCheck } from "./ssh-host-key.ts";
import type { EngineSelection } from "./engine-selection.ts";
import { healthFromStatus } from "./observed.ts";
import { createPullProgress } from "./pull-progress.ts";
import type { PullLine, PullProgress } from "./pull-progress.ts";
import type { Observed, ObservedContainer, ObservedImage } from "./observed.ts";

export type ContainerDetails = {
  id: string;
  name: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  state: string;
  running: boolean;
  restarting: boolean;
  oomKilled: boolean;
  exitCode: number;
  startedAt: string;
  restartCount: number;
  pid: number;
  health?: { status: string; failingStreak: number; lastOutput?: string };
};

/** Registry credentials for one pull, as the engine's X-Registry-Auth header carries them. */
export type PullAuth = { serveraddress: string } & ({ username: string; password: string } | { identitytoken: string });

export type EngineEvent = { type: string; action: string; id: string; labels: Record<string, string>; time: number };

export type DockerEngine = {
  observe(signal?: AbortSignal): Promise<Observed>;
  listContainers(filters?: Record<string, string[]>): Promise<ObservedContainer[]>;
  listImages(): Promise<ObservedImage[]>;
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  /** `user` is the image config's User ("" when unset: root). */
  inspectImage(ref: string): Promise<
    | {
        id: string;
        sizeBytes: number;
        labels: Record<string, string>;
        layers: string[];
        repoTags: string[];
        created: string;
        user?: string;
      }
    | undefined
  >;
  tagImage(source: string, target: string): Promise<void>;
  /** Removes an image without force; "conflict" when in use, "missing" when gone. */
  removeImage(ref: string): Promise<"removed" | "conflict" | "missing">;
  removeContainer(id: string, options?: { force?: boolean }): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  engineInfo(): Promise<{ imageStore: "overlay2" | "containerd"; serverVersion: string; gpu: EngineGpuFacts }>;
  /** Runs `cmd` (argv) in a running container; its exit code and combined output. */
  exec(id: string, cmd: readonly string[], options: { timeoutMs: number }): Promise<ExecResult>;
  /**
   * Pulls `ref` (a tag or digest) with the registry credentials given, reporting the bytes
   * downloaded; rejects with the engine's message when the stream carries an error line.
   */
  pullImage(
    ref: string,
    options?: { auth?: PullAuth; signal?: AbortSignal; timeoutMs?: number; onProgress?: (progress: PullProgress) => void },
  ): Promise<void>;
  /** Streams engine events until the signal aborts or the stream ends; `filters` are applied by the engine. */
  events(options: {
    since?: number;
    filters?: Record<string, string[]>;
    signal: AbortSignal;
    onEvent: (event: EngineEvent) => void;
    onConnected?: () => void;
  }): Promise<void>;
};

const containerListSchema = z.array(
  z.looseObject({
    Id: z.string(),
    Names: z.array(z.string()).default([]),
    Image: z.string().default(""),
    ImageID: z.string().default(""),
    Labels: z.record(z.string(), z.string()).nullish(),
    State: z.string().default(""),
    Status: z.string().default(""),
    Created: z.number().default(0),
  }),
);

const imageListSchema = z.array(
  z.looseObject({
    Id: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    RepoDigests: z.array(z.string()).nullish(),
    Labels: z.record(z.string(), z.string()).nullish(),
    Size: z.number().default(0),
    Created: z.number().default(0),
  }),
);

const containerInspectSchema = z.looseObject({
  Id: z.string(),
  Name: z.string().default(""),
  Image: z.string().default(""),
  RestartCount: z.number().default(0),
  Config: z.looseObject({ Image: z.string().default(""), Labels: z.record(z.string(), z.string()).nullish() }),
  State: z.looseObject({
    Status: z.string().default(""),
    Running: z.boolean().default(false),
    Restarting: z.boolean().default(false),
    OOMKilled: z.boolean().default(false),
    ExitCode: z.number().default(0),
    StartedAt: z.string().default(""),
    Pid: z.number().default(0),
    Health: z
      .looseObject({
        Status: z.string().default(""),
        FailingStreak: z.number().default(0),
        Log: z.array(z.looseObject({ Output: z.string().default("") })).nullish(),
      })
      .nullish(),
  }),
});

const imageInspectSchema = z.looseObject({
  Id: z.string(),
  Size: z.number().default(0),
  Created: z.string().default(""),
  RepoTags: z.array(z.string()).nullish(),
  Config: z.looseObject({ Labels: z.record(z.string(), z.string()).nullish(), User: z.string().nullish() }).nullish(),
  RootFS: z.looseObject({ Layers: z.array(z.string()).nullish() }).nullish(),
});

const infoSchema = z.looseObject({ ServerVersion: z.string().default("unknown"), DriverStatus: z.array(z.array(z.string())).nullish() });

const pullLineSchema = z.looseObject({
  status: z.string().optional().catch(undefined),
  id: z.string().optional().catch(undefined),
  progressDetail: z.looseObject({ current: z.number().optional(), total: z.number().optional() }).optional().catch(undefined),
  error: z.string().optional().catch(undefined),
  errorDetail: z.looseObject({ message: z.string().optional() }).optional().catch(undefined),
});

/** How long one pull may take (its stream included). */
const PULL_TIMEOUT_MS = 15 * 60_000;

const eventSchema = z.looseObject({
  Type: z.string().default(""),
  Action: z.string().default(""),
  Actor: z.looseObject({ ID: z.string().default(""), Attributes: z.record(z.string(), z.string()).nullish() }).nullish(),
  time: z.number().default(0),
});

/** How long one API call may take before it is aborted (the event stream has none: it is long-lived by design). */
const CALL_TIMEOUT_MS = 60_000;

/**
 * dockerode's connection options for a selection: every field set, so docker-modem's own reading of the process environment never mixes
 * in. An ssh:// engine is plain HTTP over berth's ssh agent (platform/ssh-dial-agent.ts), not docker-modem's ssh mode.
 */
export function dockerodeOptions(selection: EngineSelection): Docker.DockerOptions {
  const none = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    username: undefined,
    timeout: undefined,
    version: undefined,
  };
  const address = selection.address;
  if (address.kind === "unix") return { ...none, socketPath: address.socketPath };
  if (address.kind === "ssh") {
    const port = address.port ?? 22;
    const agent = createSshDialAgent({
      endpoint: selection.endpoint,
      host: address.host,
      port,
      ...(address.username ? { username: address.username } : {}),
      ...(selection.childEnv["SSH_AUTH_SOCK"] ? { agentSocket: selection.childEnv["SSH_AUTH_SOCK"] } : {}),
      hostKeyCheck: createSshHostKeyCheck(selection.endpoint, address, selection.childEnv),
    });
    // docker-modem hands `agent` to every request; @types/dockerode does not list it.
    const options: Docker.DockerOptions & { agent: Agent } = { ...none, protocol: "http", host: address.host, port, agent };
    return options;
  }
  if (!selection.tls) return { ...none, protocol: "http", host: address.host, port: address.port };
  const read = (file: string) => readFileSync(join(selection.tls?.certPath ?? "", file));
  return {
    ...none,
    protocol: "https",
    host: address.host,
    port: address.port,
    ca: read("ca.pem"),
    cert: read("cert.pem"),
    key: read("key.pem"),
  };
}

/**
 * The Engine API through dockerode, on the engine the selection names. Unversioned paths (the
 * engine answers with its own API version); every call has its own deadline and abort signal,
 * never dockerode's client-wide idle `timeout`, which would cut the event stream (docs/decisions.md).
 */
export function createDockerEngine(selection: EngineSelection = processEngineSelection()): DockerEngine {
  const docker = new (loadDockerode())(dockerodeOptions(selection));

  /** One API call with a deadline and the caller's signal; an abort by deadline says what did not answer. */
  async function call<T>(
    what: string,
    work: (abortSignal: AbortSignal) => Promise<T>,
    options: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      return await work(options.signal ? AbortSignal.any([options.signal, deadline]) : deadline);
    } catch (error) {
      if (deadline.aborted && !options.signal?.aborted)
        throw new Error(`${what}: no answer from the engine at ${selection.endpoint} in ${timeoutMs} ms`, { cause: error });
      throw error;
    }
  }

  async function listContainers(filters?: Record<string, string[]>, signal?: AbortSignal): Promise<ObservedContainer[]> {
    const raw = await call(
      "GET /containers/json",
      (abortSignal) => docker.listContainers({ all: true, ...(filters ? { filters: JSON.stringify(filters) } : {}), abortSignal }),
      { signal },
    );
    return containerListSchema.parse(raw).map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      image: c.Image,
      imageId: c.ImageID,
      labels: c.Labels ?? {},
      state: c.State,
      health: healthFromStatus(c.Status),
      created: c.Created,
      status: c.Status,
    }));
  }

  async function listImages(signal?: AbortSignal): Promise<ObservedImage[]> {
    const raw = await call("GET /images/json", (abortSignal) => docker.listImages({ abortSignal }), { signal });
    return imageListSchema.parse(raw).map((i) => ({
      id: i.Id,
      repoTags: (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
      repoDigests: (i.RepoDigests ?? []).filter((d) => !d.startsWith("<none>")),
      labels: i.Labels ?? {},
      sizeBytes: i.Size,
      created: i.Created,
    }));
  }

  async function orMissing<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  return {
    async observe(signal) {
      const [containers, images] = await Promise.all([listContainers(undefined, signal), listImages(signal)]);
      signal?.throwIfAborted();
      return { containers, images, takenAt: Date.now() };
    },
    listContainers: (filters) => listContainers(filters),
    listImages: () => listImages(),
    inspectContainer: (id) =>
      orMissing(async () => {
        const c = containerInspectSchema.parse(
          await call(`GET /containers/${id}/json`, (abortSignal) => docker.getContainer(id).inspect({ abortSignal })),
        );
        const health = c.State.Health;
        const last = health?.Log?.[health.Log.length - 1];
        return {
          id: c.Id,
          name: c.Name.replace(/^\//, ""),
          image: c.Config.Image,
          imageId: c.Image,
          labels: c.Config.Labels ?? {},
          state: c.State.Status,
          running: c.State.Running,
          restarting: c.State.Restarting,
          oomKilled: c.State.OOMKilled,
          exitCode: c.State.ExitCode,
          startedAt: c.State.StartedAt,
          restartCount: c.RestartCount,
          pid: c.State.Pid,
          ...(health
            ? {
                health: { status: health.Status, failingStreak: health.FailingStreak, ...(last ? { lastOutput: last.Output.trim() } : {}) },
              }
            : {}),
        };
      }),
    inspectImage: (ref) =>
      orMissing(async () => {
        const raw = await call(`GET /images/${ref}/json`, (abortSignal) =>
          dial(docker, {
            path: `/images/${ref}/json`,
            method: "GET",
            abortSignal,
            statusCodes: { 200: true, 404: "no such image", 500: "server error" },
          }),
        );
        const i = imageInspectSchema.parse(raw);
        return {
          id: i.Id,
          sizeBytes: i.Size,
          labels: i.Config?.Labels ?? {},
          layers: i.RootFS?.Layers ?? [],
          repoTags: i.RepoTags ?? [],
          created: i.Created,
          user: i.Config?.User ?? "",
        };
      }),
    async tagImage(source, target) {
      const { repo, tag } = splitRef(target);
      await call(`POST /images/${source}/tag`, (abortSignal) => docker.getImage(source).tag({ repo, tag, abortSignal }));
    },
    async removeImage(ref) {
      try {
        await call(`DELETE /images/${ref}`, (abortSignal) => docker.getImage(ref).remove({ force: false, noprune: false, abortSignal }));
        return "removed";
      } catch (error) {
        const code = statusCode(error);
        if (code === 409) return "conflict";
        if (code === 404) return "missing";
        throw error;
      }
    },
    async removeContainer(id, opts) {
      await orMissing(() =>
        call(`DELETE /containers/${id}`, (abortSignal) =>
          docker.getContainer(id).remove({ force: opts?.force ?? false, v: false, abortSignal }),
        ),
      );
    },
    async stopContainer(id, timeoutSeconds = 10) {
      try {
        await call(`POST /containers/${id}/stop`, (abortSignal) => docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal }), {
          timeoutMs: (timeoutSeconds + 30) * 1000,
        });
      } catch (error) {
        const code = statusCode(error);
        if (code !== 304 && code !== 404) throw error;
      }
    },
    async engineInfo() {
      const info = infoSchema.parse(
        await call("GET /info", (abortSignal) =>
          dial(docker, { path: "/info", method: "GET", abortSignal, statusCodes: { 200: true, 500: "server error" } }),
        ),
      );
      const containerd = (info.DriverStatus ?? []).some(
        ([key, value]) => key === "driver-type" && (value ?? "").includes("containerd.snapshotter"),
      );
      return { imageStore: containerd ? "containerd" : "overlay2", serverVersion: info.ServerVersion, gpu: engineGpuFacts(info) };
    },
    exec: (id, cmd, options) => execInContainer(docker, id, cmd, options),
    async pullImage(ref, options = {}) {
      const fold = createPullProgress();
      await call(
        `POST /images/create ${ref}`,
        async (abortSignal) => {
          const stream = (await docker.pull(ref, {
            abortSignal,
            ...(options.auth ? { authconfig: options.auth } : {}),
          })) as NodeJS.ReadableStream;
          // A line that is not JSON is not progress; an error line ends the pull as a failure.
          let failure: unknown;
          await readLines(stream, abortSignal, (line) => {
            if (failure) return;
            let raw: unknown;
            try {
              raw = JSON.parse(line);
            } catch {
              return;
            }
            const parsed = pullLineSchema.safeParse(raw);
            if (!parsed.success) return;
            try {
              const progress = fold.add(parsed.data satisfies PullLine);
              if (progress) options.onProgress?.(progress);
            } catch (error) {
              failure = error;
            }
          });
          abortSignal.throwIfAborted();
          if (failure) throw failure;
        },
        { signal: options.signal, timeoutMs: options.timeoutMs ?? PULL_TIMEOUT_MS },
      );
    },
    async events({ since, filters, signal, onEvent, onConnected }) {
      // No deadline: the stream lives until the signal aborts or the engine ends it (the caller reconnects with since=).
      const stream = await docker.getEvents({
        ...(since !== undefined ? { since } : {}),
        ...(filters ? { filters: JSON.stringify(filters) } : {}),
        abortSignal: signal,
      });
      onConnected?.();
      await readLines(stream, signal, (line) => {
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          return; // a torn line cannot be an event we need; the periodic resync covers it
        }
        const parsed = eventSchema.safeParse(raw);
        if (!parsed.success) return;
        const e = parsed.data;
        onEvent({ type: e.Type, action: e.Action, id: e.Actor?.ID ?? "", labels: e.Actor?.Attributes ?? {}, time: e.time });
      });
    },
  };
}

/** docker-modem's `dial` as a promise, for the calls whose dockerode method takes no abort signal (image inspect, info). */
function dial(
  docker: Docker,
  options: { path: string; method: string; abortSignal: AbortSignal; statusCodes: Record<number, true | string> },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(options, (error, data) => (error ? reject(error) : resolve(data)));
  });
}

/** Newline-delimited JSON from a response stream until the engine ends it or the signal aborts. */
function readLines(stream: NodeJS.ReadableStream, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  let partial = "";
  return new Promise<void>((resolve, reject) => {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line);
    });
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
  });
}

export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf("@");
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = withoutDigest.lastIndexOf(":");
  if (colon > withoutDigest.lastIndexOf("/")) return { repo: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repo: withoutDigest, tag: "latest" };
}

function statusCode(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number"
    ? error.statusCode
    : undefined;
}
