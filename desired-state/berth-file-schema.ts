// Schema of berth.yaml, the fleet file at the root of a desired state (strict: typos are errors).
import { z } from "zod";
import { cronProblem, DAY_RULE_HINT } from "./cron-schedule.ts";
import { durationSchema } from "./duration.ts";
import { scanFileSchema } from "./scan-schema.ts";

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
const name = (what: string) =>
  z.string().regex(NAME_PATTERN, { error: `${what} must be lowercase letters, digits, "-", "_" or "." and start with a letter or digit` });

const registryPrefix = z
  .string()
  .regex(/^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*$/, { error: "must be a registry prefix like ghcr.io/org or 127.0.0.1:5000/org" });

export const rolloutStrategySchema = z.union([z.literal("recreate"), z.literal("start-first")]);
export type RolloutStrategy = z.output<typeof rolloutStrategySchema>;

/** How a service whose image berth does not build follows its tag: see docs/stacks.md. */
export const updatePolicySchema = z.union([z.literal("pinned"), z.literal("track")]);
export type UpdatePolicy = z.output<typeof updatePolicySchema>;

export const rolloutSchema = z.strictObject({
  strategy: rolloutStrategySchema.optional(),
  healthTimeout: durationSchema().optional(),
  monitor: durationSchema().optional(),
  /** How many healthy previous images stay tagged for rollback. */
  history: z.int().min(1).max(20).optional(),
});

export const pruneSchema = z.strictObject({
  schedule: z
    .string()
    .min(1)
    .check((ctx) => {
      const problem = cronProblem(ctx.value);
      if (problem)
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          message: `"${ctx.value}" is not a cron expression (e.g. "0 4 * * *"): ${problem} (note: ${DAY_RULE_HINT})`,
        });
    })
    .optional(),
  keep: z.int().min(1).max(100).optional(),
  minAge: durationSchema().optional(),
  foreign: z.boolean().optional(),
  buildCacheMaxGiB: z.number().positive().optional(),
});

export const machineSchema = z.strictObject({
  profile: name("profile"),
  hostnames: z.array(z.string().min(1)).optional(),
  /** Per-machine overrides of the fleet defaults. */
  prune: pruneSchema.optional(),
  gpus: z.int().min(0).optional(),
});

export const berthFileSchema = z.strictObject({
  version: z.literal(1, { error: "only version 1 is supported" }),
  /** A prefix, or `{ prefix, mirrors }`: mirrors answer existence checks and pulls while the primary does not (docs/images.md). */
  registry: z
    .union([registryPrefix, z.strictObject({ prefix: registryPrefix, mirrors: z.array(registryPrefix).min(1).optional() })])
    .optional(),
  push: z.boolean().optional(),
  machines: z
    .record(name("machine name"), machineSchema)
    .refine((machines) => Object.keys(machines).length > 0, { error: "at least one machine is needed" }),
  rollout: rolloutSchema.optional(),
  prune: pruneSchema.optional(),
  resync: durationSchema().optional(),
  /** Fleet default of services' `x-berth.update` (default pinned). */
  update: updatePolicySchema.optional(),
  allowEmpty: z.boolean().optional(),
  /** The vulnerability gate: see docs/images.md. */
  scan: scanFileSchema.optional(),
});

export type BerthFile = z.output<typeof berthFileSchema>;
export type PruneFileSpec = z.output<typeof pruneSchema>;
export type RolloutFileSpec = z.output<typeof rolloutSchema>;
