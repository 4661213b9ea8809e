// A single-flight cache in front of a slow source (engine, nvidia-smi): a scrape waits at most
// `waitMs` for a fresh value, otherwise gets the last one while the load finishes behind it.
export type CachedReader<T> = {
  /** A value at most `ttlMs` old if one arrives within `waitMs`, else the last value younger than `maxStaleMs`. */
  get(): Promise<T | undefined>;
  /** Primes the cache with a value someone else already read (e.g. the pass's own observe()). */
  set(value: T): void;
  invalidate(): void;
  /** The last load failure, cleared by the next success. */
  readonly lastError: unknown;
};

export type CachedReaderOptions = { ttlMs: number; waitMs: number; maxStaleMs: number; now?: () => number };

export function createCachedReader<T>(load: () => Promise<T>, options: CachedReaderOptions): CachedReader<T> {
  const now = options.now ?? Date.now;
  let value: { data: T; at: number; stale: boolean } | undefined;
  let inflight: Promise<void> | undefined;
  let lastError: unknown;

  function refresh(): Promise<void> {
    inflight ??= load()
      .then(
        (data) => {
          value = { data, at: now(), stale: false };
          lastError = undefined;
        },
        (error: unknown) => {
          lastError = error;
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  function usable(): T | undefined {
    return value && now() - value.at <= options.maxStaleMs ? value.data : undefined;
  }

  return {
    async get() {
      if (value && !value.stale && now() - value.at <= options.ttlMs) return value.data;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.waitMs);
      });
      await Promise.race([refresh(), waited]);
      clearTimeout(timer);
      return usable();
    },
    set(data) {
      value = { data, at: now(), stale: false };
    },
    invalidate() {
      if (value) value.stale = true;
    },
    get lastError() {
      return lastError;
    },
  };
}
