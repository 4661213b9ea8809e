// The one door to BuildKit: an ImageBuilder interface, its `docker buildx build` implementation,
// and a counting decorator (tests and benches assert how often BuildKit was invoked).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../platform/run-command.ts";
import { createProgressReader } from "./buildkit-progress.ts";
import type { BuildStep, StepCounts } from "./buildkit-progress.ts";

export type CacheExport = { kind: "inline" } | { kind: "registry"; ref: string };

export type BuildRequest = {
  image: string;
  context: string;
  dockerfile: string;
  /** First tag is the content tag. */
  tags: string[];
  buildArgs: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  platform: string;
  /** Named build contexts: `FROM <name>` resolves to this local image reference. */
  namedContexts: Readonly<Record<string, string>>;
  /** Registry references to import build cache from (missing ones are skipped by BuildKit). */
  cacheFrom: readonly string[];
  cacheTo?: CacheExport;
  timeoutMs?: number;
  signal?: AbortSignal;
  onStep?: (step: BuildStep) => void;
  /** Called when the number of known, finished or cached Dockerfile steps changes. */
  onCounts?: (counts: StepCounts) => void;
};

export type BuildOutcome =
  | { ok: true; digest?: string; durationSeconds: number; cacheHitRatio?: number }
  | { ok: false; durationSeconds: number; message: string; errorLines: string[] };

export type ImageBuilder = { build(request: BuildRequest): Promise<BuildOutcome> };

export type CountingBuilder = ImageBuilder & { readonly calls: BuildRequest[]; count(): number; reset(): void };

export function buildxArgs(request: BuildRequest, metadataFile: string): string[] {
  const args = [
    "buildx",
    "build",
    "--progress=rawjson",
    "--metadata-file",
    metadataFile,
    "--platform",
    request.platform,
    "-f",
    request.dockerfile,
    "--load",
  ];
  for (const [key, value] of Object.entries(request.buildArgs)) args.push("--build-arg", `${key}=${value}`);
  for (const [key, value] of Object.entries(request.labels)) args.push("--label", `${key}=${value}`);
  for (const [name, ref] of Object.entries(request.namedContexts)) args.push("--build-context", `${name}=docker-image://${ref}`);
  for (const ref of request.cacheFrom) args.push("--cache-from", `type=registry,ref=${ref}`);
  if (request.cacheTo?.kind === "inline") args.push("--cache-to", "type=inline");
  if (request.cacheTo?.kind === "registry") args.push("--cache-to", `type=registry,ref=${request.cacheTo.ref},mode=max`);
  for (const tag of request.tags) args.push("-t", tag);
  args.push(request.context);
  return args;
}

/** `env`: the engine selection's `childEnv`, the whole environment of every buildx call (the build runs on that engine). */
export function createBuildxBuilder(options: { dockerBinary?: string; env: Readonly<Record<string, string>> }): ImageBuilder {
  const env = options.env;
  return {
    async build(request) {
      const dir = await mkdtemp(join(tmpdir(), "berth-build-"));
      const metadataFile = join(dir, "metadata.json");
      const reader = createProgressReader(request.onStep);
      let last = "";
      const feed = (line: string): void => {
        reader.line(line);
        if (!request.onCounts || line !== "}") return;
        const counts = reader.counts();
        const key = `${counts.done}/${counts.total}/${counts.cached}`;
        if (key !== last) request.onCounts(counts);
        last = key;
      };
      const started = performance.now();
      try {
        const result = await runCommand(options.dockerBinary ?? "docker", buildxArgs(request, metadataFile), {
          allowFailure: true,
          env,
          timeoutMs: request.timeoutMs ?? 30 * 60_000,
          ...(request.signal ? { signal: request.signal } : {}),
          onStderrLine: feed,
          onStdoutLine: feed,
        });
        const durationSeconds = (performance.now() - started) / 1000;
        if (result.exitCode !== 0) {
          const errorLines = reader.errorLines();
          const last =
            errorLines.filter((l) => l.startsWith("ERROR:")).pop() ??
            errorLines[errorLines.length - 1] ??
            `buildx exited ${result.exitCode}`;
          return { ok: false, durationSeconds, message: last, errorLines };
        }
        const metadata = JSON.parse(await readFile(metadataFile, "utf8").catch(() => "{}")) as Record<string, unknown>;
        const digest = typeof metadata["containerimage.digest"] === "string" ? metadata["containerimage.digest"] : undefined;
        const ratio = reader.cacheHitRatio();
        return { ok: true, durationSeconds, ...(digest ? { digest } : {}), ...(ratio !== undefined ? { cacheHitRatio: ratio } : {}) };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { ok: false, durationSeconds: (performance.now() - started) / 1000, message, errorLines: [message] };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Wraps a builder and records every call that reached it. */
export function countingBuilder(inner: ImageBuilder): CountingBuilder {
  const calls: BuildRequest[] = [];
  return {
    calls,
    count: () => calls.length,
    reset: () => {
      calls.length = 0;
    },
    build(request) {
      calls.push(request);
      return inner.build(request);
    },
  };
}
