// Schema of image budgets (size, build time, cache-hit ratio, size reduction), shared by images and services.
import { z } from "zod";

export const budgetsSchema = z.strictObject({
  sizeMiB: z.number().positive().optional(),
  buildSeconds: z.number().positive().optional(),
  cacheHitRatio: z.number().min(0).max(1).optional(),
  /** Least size reduction against the baseline (0.55 = at least 55 % smaller). */
  minReduction: z.number().min(0).max(1).optional(),
  /** When true a breach blocks the rollout; otherwise it is a warning. */
  enforce: z.boolean().optional(),
});

export type Budgets = z.output<typeof budgetsSchema>;
