// A jittered periodic trigger (resync, git fetch): it only calls back; the callback enqueues.
export function everyInterval(
  seconds: number,
  onTick: () => void,
  options: { jitter?: number; random?: () => number } = {},
): { stop(): void } {
  const jitter = options.jitter ?? 0.1;
  const random = options.random ?? Math.random;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  function schedule(): void {
    const ms = seconds * 1000 * (1 - jitter + 2 * jitter * random());
    timer = setTimeout(() => {
      if (stopped) return;
      onTick();
      schedule();
    }, ms);
    timer.unref?.();
  }
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
