// Reads `docker buildx build --progress=rawjson` output: step vertexes with their `cached` flags
// (the cache-hit ratio), finished steps for the log, and the error lines of a failed build.
export type BuildStep = { digest: string; name: string; cached: boolean; error?: string; durationMs?: number };

type RawVertex = { digest?: string; name?: string; cached?: boolean; started?: string; completed?: string; error?: string };
type RawLog = { vertex?: string; data?: string };
type RawStatus = { vertexes?: RawVertex[]; logs?: RawLog[] };

export type StepCounts = { done: number; total: number; cached: number };

export type ProgressReader = {
  /** Feed one line of buildx's stderr. */
  line(text: string): void;
  /** Steps as they stand (final state of each vertex). */
  steps(): BuildStep[];
  /** Cached / completed Dockerfile steps (FROM, [internal], context and export vertexes ignored). */
  cacheHitRatio(): number | undefined;
  /** Dockerfile steps (as for the ratio) known so far, finished, and finished from cache. */
  counts(): StepCounts;
  /** What went wrong: vertex errors, the failing step's last log lines, and buildx's ERROR text. */
  errorLines(): string[];
};

/** A numbered Dockerfile step such as "[2/4] RUN …" or "[stage-1 3/5] COPY …", except FROM. */
const STEP = /^\[(?:[^\]]*\s)?\d+\/\d+\]\s+(?!FROM\s)/;

export function createProgressReader(onStepDone?: (step: BuildStep) => void): ProgressReader {
  const vertexes = new Map<string, RawVertex>();
  const logs = new Map<string, string[]>();
  const text: string[] = [];
  let buffer: string[] | undefined;

  function absorb(status: RawStatus): void {
    for (const vertex of status.vertexes ?? []) {
      if (!vertex.digest) continue;
      const merged = { ...vertexes.get(vertex.digest), ...vertex };
      vertexes.set(vertex.digest, merged);
      if ((vertex.completed || vertex.error) && onStepDone) onStepDone(toStep(merged));
    }
    for (const log of status.logs ?? []) {
      if (!log.vertex || !log.data) continue;
      const lines = Buffer.from(log.data, "base64")
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim() !== "");
      const kept = [...(logs.get(log.vertex) ?? []), ...lines].slice(-20);
      logs.set(log.vertex, kept);
    }
  }

  function counts(): StepCounts {
    const steps = [...vertexes.values()].filter((v) => v.name && STEP.test(v.name));
    const done = steps.filter((v) => v.completed || v.cached);
    return { done: done.length, total: steps.length, cached: done.filter((v) => v.cached === true).length };
  }

  return {
    line(raw) {
      if (buffer === undefined) {
        if (raw === "{") buffer = [raw];
        else if (raw.trim() !== "") text.push(raw);
        return;
      }
      buffer.push(raw);
      if (raw !== "}") return;
      const json = buffer.join("\n");
      buffer = undefined;
      try {
        absorb(JSON.parse(json) as RawStatus);
      } catch {
        text.push(json);
      }
    },
    steps: () => [...vertexes.values()].map(toStep),
    cacheHitRatio() {
      const { done, cached } = counts();
      return done === 0 ? undefined : cached / done;
    },
    counts,
    errorLines() {
      const out: string[] = [];
      for (const vertex of vertexes.values()) {
        if (!vertex.error) continue;
        out.push(`${vertex.name ?? "step"}: ${vertex.error}`);
        if (vertex.digest) out.push(...(logs.get(vertex.digest) ?? []).slice(-8));
      }
      for (const line of text.slice(-15)) if (!out.includes(line)) out.push(line);
      return out;
    },
  };
}

function toStep(vertex: RawVertex): BuildStep {
  const durationMs = vertex.started && vertex.completed ? Date.parse(vertex.completed) - Date.parse(vertex.started) : undefined;
  return {
    digest: vertex.digest ?? "",
    name: vertex.name ?? "",
    cached: vertex.cached === true,
    ...(vertex.error ? { error: vertex.error } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
  };
}
