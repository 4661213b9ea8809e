// How a machine profile reaches builds and containers: build args and runtime environment.
import type { Profile } from "./profile-schema.ts";
import { compareText } from "../platform/compare-text.ts";

/**
 * Build args for one image on one machine: MACHINE, MACHINE_PROFILE (the profile as JSON) and
 * every profile variable, but only those the Dockerfile declares with ARG, so images that do
 * not use the profile are built once and shared by all machines. Explicit args win.
 */
export function profileBuildArgs(machine: string, profile: Profile, declaredArgs: ReadonlySet<string>): Record<string, string> {
  const args: Record<string, string> = {};
  if (declaredArgs.has("MACHINE")) args["MACHINE"] = machine;
  if (declaredArgs.has("MACHINE_PROFILE")) args["MACHINE_PROFILE"] = profileJson(profile);
  for (const [key, value] of Object.entries(profile)) {
    if (declaredArgs.has(key)) args[key] = value;
  }
  return args;
}

/** The profile as compact JSON with sorted keys, so its text (and every hash over it) is stable. */
export function profileJson(profile: Profile): string {
  return JSON.stringify(Object.fromEntries(Object.entries(profile).sort(([a], [b]) => compareText(a, b))));
}

/**
 * Runtime environment of a service as it goes into a compose file: profile variables and MACHINE,
 * with the service's own values winning. Compose interpolates `$` in the file it runs, so injected
 * values are escaped (`$` → `$$`): a profile value `${BERTH_REPO}` stays that literal text instead
 * of becoming the agent's own variable. `own` comes from `docker compose config`, already escaped.
 */
export function serviceEnvironment(
  machine: string,
  profile: Profile,
  own: Readonly<Record<string, string | null>>,
): Record<string, string | null> {
  const injected = Object.fromEntries(
    Object.entries({ MACHINE: machine, ...profile }).map(([key, value]) => [key, escapeInterpolation(value)]),
  );
  return { ...injected, ...own };
}

/** Escapes compose interpolation: every `$` becomes `$$`, which compose turns back into one `$`. */
export function escapeInterpolation(value: string): string {
  return value.replaceAll("$", "$$$$");
}
