// The host policy file (`/etc/berth/policy.yaml`, never from git): its strict schema, the levels
// and the controls, named after the Kubernetes Pod Security Standards they map to.
import { z } from "zod";

export const LEVELS = ["privileged", "baseline", "restricted"] as const;
export type Level = (typeof LEVELS)[number];

/** Control names as used in messages and in an exception's `allow`. */
export const CONTROLS = [
  "privileged",
  "hostNetwork",
  "hostPID",
  "hostIPC",
  "hostUTS",
  "hostUsers",
  "hostCgroup",
  "hostPaths",
  "dockerSocket",
  "capabilities",
  "devices",
  "seccomp",
  "apparmor",
  "selinux",
  "sysctls",
  "runAsRoot",
  "privilegeEscalation",
] as const;
export type Control = (typeof CONTROLS)[number];

/** The host path prefix syntax: absolute, normalised, no trailing slash (except "/"). */
const hostPath = z
  .string()
  .regex(/^\/(?:[^/\0]+(?:\/[^/\0]+)*)?$/, { error: "must be an absolute path without a trailing slash, e.g. /srv/data" })
  .refine((p) => !p.split("/").some((part) => part === "." || part === ".."), { error: "must not contain . or .. segments" });

export const policySchema = z.strictObject({
  level: z.enum(LEVELS).default("baseline"),
  hostPaths: z.array(hostPath).default([]),
  registries: z
    .array(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*[A-Za-z0-9]$/, {
        error: "must be a registry host with an optional path, e.g. ghcr.io/acme or 127.0.0.1:5000",
      }),
    )
    .optional(),
  machine: z.string().min(1).optional(),
  exceptions: z
    .array(
      z.strictObject({
        stack: z.string().min(1),
        service: z.string().min(1).optional(),
        allow: z.array(z.enum(CONTROLS)).min(1),
      }),
    )
    .default([]),
});

export type Policy = z.output<typeof policySchema>;

/** No policy file on the host: the Kubernetes baseline. */
export const DEFAULT_POLICY: Policy = { level: "baseline", hostPaths: [], exceptions: [] };
