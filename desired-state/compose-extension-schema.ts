// Schemas of berth's compose extension fields: top-level and per-service `x-berth` (strict).
import { z } from "zod";
import { rolloutSchema, updatePolicySchema } from "./berth-file-schema.ts";
import { budgetsSchema } from "./budgets-schema.ts";
import { baselineSchema } from "./image-baseline.ts";
import { scanOverrideSchema } from "./scan-schema.ts";

export const stackExtensionSchema = z.strictObject({
  machines: z.array(z.string().min(1)).min(1).optional(),
  /** Remove services of this stack that left the desired state. */
  prune: z.boolean().optional(),
});

export const gpuNeedSchema = z.strictObject({
  count: z.int().min(1).optional(),
  vramMiB: z.number().positive().optional(),
});

/** One `x-berth.verify` command: a string runs with /bin/sh -c, a list is the argv itself. */
export const verifyCommandSchema = z.union([z.string().min(1), z.array(z.string()).min(1)]);

export const serviceExtensionSchema = z.strictObject({
  rollout: rolloutSchema.optional(),
  selfHeal: z.boolean().optional(),
  gpu: gpuNeedSchema.optional(),
  source: z.union([z.literal("build"), z.literal("pull"), z.literal("auto")]).optional(),
  budgets: budgetsSchema.optional(),
  baseline: baselineSchema.optional(),
  /** The vulnerability gate for this service's image, built or pulled (overrides berth.yaml `scan:`). */
  scan: scanOverrideSchema.optional(),
  /** Images berth does not build: keep the digest first pulled (pinned) or follow the tag (track). */
  update: updatePolicySchema.optional(),
  /** Commands run inside the new container once it is healthy, before it takes over; a non-zero exit rolls back. */
  verify: z.array(verifyCommandSchema).min(1).optional(),
});

export type StackExtension = z.output<typeof stackExtensionSchema>;
export type ServiceExtension = z.output<typeof serviceExtensionSchema>;
export type GpuNeed = z.output<typeof gpuNeedSchema>;
export type VerifyCommand = z.output<typeof verifyCommandSchema>;
