// Folds the Engine API's pull progress lines (one JSON object per line, per layer) into the bytes
// downloaded so far for the whole image, and turns an `error`/`errorDetail` line into a failure.

/** One line of `POST /images/create`'s stream, as far as berth reads it (lenient: the engine adds fields). */
export type PullLine = {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
};

/** Bytes of the image's layers downloaded so far; `total` once every layer to download has told its size. */
export type PullProgress = { current: number; total?: number };

export type PullProgressFold = {
  /** The progress after this line, when it changed the bytes; an error line throws. */
  add(line: PullLine): PullProgress | undefined;
  readonly progress: PullProgress;
};

/** Layer states after which its bytes are all there (a layer the host has already costs none). */
const DOWNLOADED = new Set(["Download complete", "Verifying Checksum", "Extracting", "Pull complete"]);

export class PullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PullError";
  }
}

export function createPullProgress(): PullProgressFold {
  /** Layer id → bytes down and its size (unknown until it starts downloading). */
  const layers = new Map<string, { current: number; total?: number }>();

  function progress(): PullProgress {
    let current = 0;
    let total = 0;
    let known = true;
    for (const layer of layers.values()) {
      current += layer.current;
      if (layer.total === undefined) known = false;
      else total += layer.total;
    }
    return known && layers.size > 0 ? { current, total } : { current };
  }

  return {
    add(line) {
      const error = line.errorDetail?.message || line.error;
      if (error) throw new PullError(error);
      const id = line.id;
      const status = line.status ?? "";
      if (!id || status.startsWith("Pulling from")) return undefined;
      const layer = layers.get(id);
      if (status === "Already exists") {
        if (!layer) return undefined;
        layers.delete(id);
        return progress();
      }
      if (status === "Pulling fs layer" || status === "Waiting") {
        if (!layer) layers.set(id, { current: 0 });
        return undefined;
      }
      if (status === "Downloading") {
        const total = line.progressDetail?.total;
        const current = line.progressDetail?.current ?? layer?.current ?? 0;
        layers.set(id, {
          current,
          ...(total !== undefined && total > 0 ? { total } : layer?.total !== undefined ? { total: layer.total } : {}),
        });
        return progress();
      }
      if (DOWNLOADED.has(status) && layer && (layer.total === undefined || layer.current !== layer.total)) {
        // The last Downloading line may come before the last chunk: a finished layer counts whole.
        const size = layer.total ?? layer.current;
        layers.set(id, { current: size, total: size });
        return progress();
      }
      return undefined;
    },
    get progress() {
      return progress();
    },
  };
}
