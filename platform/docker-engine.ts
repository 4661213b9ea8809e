// The Docker Engine API behind a small interface (one real implementation, on dockerode).
import Docker from "dockerode";
import type { Readable } from "node:stream";
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
  inspectImage(ref: string): Promise<{ id: string; sizeBytes: number; labels: Record<string, string>; layers: string[]; repoTags: string[]; created: string } | undefined>;
  tagImage(source: string, target: string): Promise<void>;
  /** Removes an image without force; "conflict" when in use, "missing" when gone. */
  removeImage(ref: string): Promise<"removed" | "conflict" | "missing">;
  removeContainer(id: string, options?: { force?: boolean }): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  engineInfo(): Promise<{ imageStore: "overlay2" | "containerd"; serverVersion: string }>;
  events(options: { since?: number; signal: AbortSignal; onEvent: (event: EngineEvent) => void }): Promise<void>;
};

export function createDockerEngine(options: { socketPath?: string } = {}): DockerEngine {
  const docker = new Docker({ socketPath: options.socketPath ?? process.env["DOCKER_SOCKET"] ?? "/var/run/docker.sock" });

  async function listContainers(filters?: Record<string, string[]>): Promise<ObservedContainer[]> {
    const list = await docker.listContainers({ all: true, ...(filters ? { filters: JSON.stringify(filters) } : {}) });
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
    const list = await docker.listImages({ all: false });
    return list.map((i) => ({
      id: i.Id,
      repoTags: (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
      repoDigests: (i.RepoDigests ?? []).filter((d) => !d.startsWith("<none>")),
      labels: i.Labels ?? {},
      sizeBytes: i.Size,
      created: i.Created,
    }));
  }

  return {
    async observe() {
      const [containers, images] = await Promise.all([listContainers(), listImages()]);
      return { containers, images, takenAt: Date.now() };
    },
    listContainers,
    listImages,
    async inspectContainer(id) {
      try {
        const c = await docker.getContainer(id).inspect();
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
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        throw error;
      }
    },
    async inspectImage(ref) {
      try {
        const i = await docker.getImage(ref).inspect();
        return { id: i.Id, sizeBytes: i.Size, labels: i.Config?.Labels ?? {}, layers: i.RootFS?.Layers ?? [], repoTags: i.RepoTags ?? [], created: i.Created };
      } catch (error) {
        if (statusCode(error) === 404) return undefined;
        throw error;
      }
    },
    async tagImage(source, target) {
      const { repo, tag } = splitRef(target);
      await docker.getImage(source).tag({ repo, tag });
    },
    async removeImage(ref) {
      try {
        await docker.getImage(ref).remove({ force: false, noprune: false });
        return "removed";
      } catch (error) {
        const code = statusCode(error);
        if (code === 409) return "conflict";
        if (code === 404) return "missing";
        throw error;
      }
    },
    async removeContainer(id, opts) {
      try {
        await docker.getContainer(id).remove({ force: opts?.force ?? false, v: false });
      } catch (error) {
        if (statusCode(error) !== 404) throw error;
      }
    },
    async stopContainer(id, timeoutSeconds = 10) {
      try {
        await docker.getContainer(id).stop({ t: timeoutSeconds });
      } catch (error) {
        const code = statusCode(error);
        if (code !== 304 && code !== 404) throw error;
      }
    },
    async engineInfo() {
      const info = (await docker.info()) as { DriverStatus?: [string, string][]; ServerVersion?: string };
      const containerd = (info.DriverStatus ?? []).some(([key, value]) => key === "driver-type" && value.includes("containerd.snapshotter"));
      return { imageStore: containerd ? "containerd" : "overlay2", serverVersion: info.ServerVersion ?? "unknown" };
    },
    async events({ since, signal, onEvent }) {
      const stream = (await docker.getEvents({ ...(since ? { since } : {}), abortSignal: signal } as Docker.GetEventsOptions)) as unknown as Readable;
      await new Promise<void>((resolve, reject) => {
        let partial = "";
        stream.on("data", (chunk: Buffer) => {
          partial += chunk.toString("utf8");
          const lines = partial.split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            if (!line.trim()) continue;
            try {
              const e = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number };
              onEvent({ type: e.Type ?? "", action: e.Action ?? "", id: e.Actor?.ID ?? "", labels: e.Actor?.Attributes ?? {}, time: e.time ?? 0 });
            } catch {
              // A torn line cannot be an event we need; the periodic resync covers it.
            }
          }
        });
        stream.on("end", () => resolve());
        stream.on("close", () => resolve());
        stream.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
      });
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
