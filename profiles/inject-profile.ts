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

/** Runtime environment of a service: profile variables and MACHINE, with the service's own values winning. */
export function serviceEnvironment(machine: string, profile: Profile, own: Readonly<Record<string, string | null>>): Record<string, string | null> {
  return { MACHINE: machine, ...profile, ...own };
}
