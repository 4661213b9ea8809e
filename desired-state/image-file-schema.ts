// Schema of images/<name>/image.yaml: one shared base or family image (strict).
import { z } from "zod";
import { budgetsSchema } from "./budgets-schema.ts";
import { baselineSchema } from "./image-baseline.ts";
import { scanOverrideSchema } from "./scan-schema.ts";

export const buildArgsSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "build arg names are letters, digits and _" }),
  z.string({ error: "build arg values must be strings" }),
);

export const imageFileSchema = z.strictObject({
  context: z.string().min(1).optional(),
  dockerfile: z.string().min(1).optional(),
  args: buildArgsSchema.optional(),
  machines: z.array(z.string().min(1)).min(1).optional(),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9]+(?:\/[a-z0-9]+)?$/, { error: "must be like linux/amd64" })
    .optional(),
  push: z.boolean().optional(),
  source: z.union([z.literal("build"), z.literal("pull"), z.literal("auto")]).optional(),
  budgets: budgetsSchema.optional(),
  baseline: baselineSchema.optional(),
  scan: scanOverrideSchema.optional(),
});

export type ImageFile = z.output<typeof imageFileSchema>;
