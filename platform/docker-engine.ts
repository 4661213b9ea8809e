// The Docker Engine API behind a small interface (one real implementation, over the Unix socket).
import { z } from "zod";
import { createEngineHttp } from "./engine-http.ts";
import { healthFromStatus } from "./observed.ts";
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

export type EngineEvent = { type: string; action: string; id: string; labels: Record<string, string>; time: number };

export type DockerEngine = {
  observe(signal?: AbortSignal): Promise<Observed>;
  listContainers(filters?: Record<string, string[]>): Promise<ObservedContainer[]>;
  listImages(): Promise<ObservedImage[]>;
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  /** `user` is the image config's User ("" when unset: root). */
  inspectImage(ref: string): Promise<{ id: string; sizeBytes: number; labels: Record<string, string>; layers: string[]; repoTags: string[]; created: string; user?: string } | undefined>;
  tagImage(source: string, target: string): Promise<void>;
  /** Removes an image without force; "conflict" when in use, "missing" when gone. */
  removeImage(ref: string): Promise<"removed" | "conflict" | "missing">;
  removeContainer(id: string, options?: { force?: boolean }): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  engineInfo(): Promise<{ imageStore: "overlay2" | "containerd"; serverVersion: string }>;
  /** Streams engine events until the signal aborts or the stream ends; `filters` are applied by the engine. */
  events(options: { since?: number; filters?: Record<string, string[]>; signal: AbortSignal; onEvent: (event: EngineEvent) => void; onConnected?: () => void }): Promise<void>;
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
      .looseObject({ Status: z.string().default(""), FailingStreak: z.number().default(0), Log: z.array(z.looseObject({ Output: z.string().default("") })).nullish() })
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

const eventSchema = z.looseObject({
  Type: z.string().default(""),
  Action: z.string().default(""),
  Actor: z.looseObject({ ID: z.string().default(""), Attributes: z.record(z.string(), z.string()).nullish() }).nullish(),
  time: z.number().default(0),
});

/**
 * The Engine API over its Unix socket with node:http, not dockerode: dockerode loads ssh2 and
 * gRPC (27 MB of resident memory for features berth never uses) and its idle-socket timeout cuts
 * event streams (docs/decisions.md).
 */
export function createDockerEngine(options: { socketPath?: string } = {}): DockerEngine {
  const api = createEngineHttp(options.socketPath ?? process.env["DOCKER_SOCKET"] ?? "/var/run/docker.sock");

  async function listContainers(filters?: Record<string, string[]>): Promise<ObservedContainer[]> {
    const list = containerListSchema.parse(await api.json("GET", "/containers/json", { all: 1, ...(filters ? { filters: JSON.stringify(filters) } : {}) }));
    return list.map((c) => ({
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

  async function listImages(): Promise<ObservedImage[]> {
    const list = imageListSchema.parse(await api.json("GET", "/images/json"));
    return list.map((i) => ({
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
      const [containers, images] = await Promise.all([listContainers(), listImages()]);
      signal?.throwIfAborted();
      return { containers, images, takenAt: Date.now() };
    },
    listContainers,
    listImages,
    inspectContainer: (id) =>
      orMissing(async () => {
        const c = containerInspectSchema.parse(await api.json("GET", `/containers/${id}/json`));
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
          ...(health ? { health: { status: health.Status, failingStreak: health.FailingStreak, ...(last ? { lastOutput: last.Output.trim() } : {}) } } : {}),
        };
      }),
    inspectImage: (ref) =>
      orMissing(async () => {
        const i = imageInspectSchema.parse(await api.json("GET", `/images/${ref}/json`));
        return { id: i.Id, sizeBytes: i.Size, labels: i.Config?.Labels ?? {}, layers: i.RootFS?.Layers ?? [], repoTags: i.RepoTags ?? [], created: i.Created, user: i.Config?.User ?? "" };
      }),
    async tagImage(source, target) {
      const { repo, tag } = splitRef(target);
      await api.json("POST", `/images/${source}/tag`, { repo, tag });
    },
    async removeImage(ref) {
      try {
        await api.json("DELETE", `/images/${ref}`, { force: false, noprune: false });
        return "removed";
      } catch (error) {
        const code = statusCode(error);
        if (code === 409) return "conflict";
        if (code === 404) return "missing";
        throw error;
      }
    },
    async removeContainer(id, opts) {
      await orMissing(() => api.json("DELETE", `/containers/${id}`, { force: opts?.force ?? false, v: false }));
    },
    async stopContainer(id, timeoutSeconds = 10) {
      try {
        await api.json("POST", `/containers/${id}/stop`, { t: timeoutSeconds }, { timeoutMs: (timeoutSeconds + 30) * 1000 });
      } catch (error) {
        const code = statusCode(error);
        if (code !== 304 && code !== 404) throw error;
      }
    },
    async engineInfo() {
      const info = infoSchema.parse(await api.json("GET", "/info"));
      const containerd = (info.DriverStatus ?? []).some(([key, value]) => key === "driver-type" && (value ?? "").includes("containerd.snapshotter"));
      return { imageStore: containerd ? "containerd" : "overlay2", serverVersion: info.ServerVersion };
    },
    async events({ since, filters, signal, onEvent, onConnected }) {
      await api.stream("/events", { since, ...(filters ? { filters: JSON.stringify(filters) } : {}) }, signal, (line) => {
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
      }, onConnected);
    },
  };
}

export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf("@");
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = withoutDigest.lastIndexOf(":");
  if (colon > withoutDigest.lastIndexOf("/")) return { repo: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repo: withoutDigest, tag: "latest" };
}

function statusCode(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number" ? error.statusCode : undefined;
}
