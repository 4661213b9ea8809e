// How long to wait for a container to stop: the service's stop_grace_period, else 10 s.
export function stopGraceSeconds(config: Record<string, unknown> | undefined): number {
  const value = config?.["stop_grace_period"];
  if (typeof value !== "string") return 10;
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value.trim());
  if (!match || value.trim() === "") return 10;
  const [, h, m, s, ms] = match;
  return Math.ceil(Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0) + Number(ms ?? 0) / 1000);
}
