// Schema of the vulnerability gate (`scan:` in berth.yaml, image.yaml and x-berth) and the
// settings one image is scanned with: the fleet's, with the image's or service's overrides.
import { z } from "zod";
import { durationSchema } from "./duration.ts";

export const SEVERITIES = ["critical", "high", "medium", "low", "negligible", "unknown"] as const;
export type Severity = (typeof SEVERITIES)[number];

const severitySchema = z.enum(SEVERITIES, { error: `a severity is one of ${SEVERITIES.join(", ")}` });

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A finding the gate lets through until the end of `expires` (UTC); an expired entry no longer counts. */
export const allowEntrySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z][A-Za-z0-9._:-]*$/, { error: "must be a vulnerability id like CVE-2024-12345 or GHSA-xxxx-xxxx-xxxx" }),
  expires: z
    .string()
    .refine((text) => DATE.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)), { error: "must be a date like 2026-12-31" }),
  reason: z.string().optional(),
});

/** What an image or a service may set for itself (image.yaml `scan:`, x-berth `scan:`). */
export const scanOverrideSchema = z.strictObject({
  failOn: z.array(severitySchema).optional(),
  ignoreUnfixed: z.boolean().optional(),
  /** false: findings and scan failures are warnings; rollouts go ahead. */
  enforce: z.boolean().optional(),
  /** Added to the fleet's allow entries. */
  allow: z.array(allowEntrySchema).optional(),
});

/** berth.yaml `scan:`: turns the gate on for every image of the fleet. */
export const scanFileSchema = scanOverrideSchema.extend({
  command: z.union([z.literal("trivy"), z.literal("grype")]).optional(),
  timeout: durationSchema().optional(),
  /** A cached result older than this is scanned again, even when the scanner's database did not change. */
  maxAge: durationSchema().optional(),
});

export type AllowEntry = z.output<typeof allowEntrySchema>;
export type ScanOverride = z.output<typeof scanOverrideSchema>;
export type ScanFileSpec = z.output<typeof scanFileSchema>;

export type ScanSettings = {
  command: "trivy" | "grype";
  failOn: Severity[];
  ignoreUnfixed: boolean;
  enforce: boolean;
  timeoutSeconds: number;
  maxAgeSeconds: number;
  allow: AllowEntry[];
};

export const DEFAULT_SCAN_TIMEOUT_SECONDS = 5 * 60;
export const DEFAULT_SCAN_MAX_AGE_SECONDS = 24 * 3600;

/**
 * The settings one image is scanned with, or undefined when neither the fleet nor the image asks
 * for a scan (`force`: `berth build --scan` scans with the defaults then).
 */
export function scanSettingsFor(fleet: ScanFileSpec | undefined, own: ScanOverride | undefined, force = false): ScanSettings | undefined {
  if (!fleet && !own && !force) return undefined;
  return {
    command: fleet?.command ?? "trivy",
    failOn: own?.failOn ?? fleet?.failOn ?? [],
    ignoreUnfixed: own?.ignoreUnfixed ?? fleet?.ignoreUnfixed ?? false,
    enforce: own?.enforce ?? fleet?.enforce ?? true,
    timeoutSeconds: fleet?.timeout ?? DEFAULT_SCAN_TIMEOUT_SECONDS,
    maxAgeSeconds: fleet?.maxAge ?? DEFAULT_SCAN_MAX_AGE_SECONDS,
    allow: [...(fleet?.allow ?? []), ...(own?.allow ?? [])],
  };
}
