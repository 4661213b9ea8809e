// Schema of a machine profile: the seed's flat JSON map of variable name → string value.
import { z } from "zod";

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const profileSchema = z.record(
  z.string().regex(VARIABLE_NAME, { error: "profile keys must be variable names (letters, digits, _)" }),
  z.string({ error: 'profile values must be strings (quote numbers: "16")' }),
);

export type Profile = z.output<typeof profileSchema>;

/** Variables berth itself sets; a profile may not define them. */
export const RESERVED_VARIABLES = ["MACHINE", "MACHINE_PROFILE"] as const;
