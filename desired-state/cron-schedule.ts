// Checks a cron expression with node-cron's own validation (the library that runs the schedule),
// naming the field at fault, and tells when node-cron's day rule differs from Vixie cron's.
import { validateDetailed } from "node-cron";

const FIELDS: Record<string, { label: string; min: number; max: number }> = {
  second: { label: "second", min: 0, max: 59 },
  minute: { label: "minute", min: 0, max: 59 },
  hour: { label: "hour", min: 0, max: 23 },
  dayOfMonth: { label: "day of month", min: 1, max: 31 },
  month: { label: "month", min: 1, max: 12 },
  dayOfWeek: { label: "day of week", min: 0, max: 7 },
};

/** What node-cron does differently from Vixie cron, said wherever a schedule is explained. */
export const DAY_RULE_HINT =
  "when both day of month and day of week are set, a day must match both (node-cron), not either as in Vixie cron";

/** Undefined when node-cron accepts the expression; otherwise the first field at fault, e.g. `hour: 25 is outside 0-23`. */
export function cronProblem(expression: string): string | undefined {
  const result = validateDetailed(expression);
  if (result.valid) return undefined;
  const error = result.errors[0];
  if (!error) return "not accepted by node-cron";
  const field = FIELDS[error.field];
  if (!field) return error.message; // the whole expression, e.g. "expected 5 or 6 fields but got 2"
  const value = error.value ?? "";
  if (/^\d+$/.test(value) && (Number(value) < field.min || Number(value) > field.max))
    return `${field.label}: ${value} is outside ${field.min}-${field.max}`;
  return `${field.label}: "${value}" is not a value, range, step or name`;
}

/** Whether the expression restricts both day fields, where node-cron needs both to match (DAY_RULE_HINT). */
export function restrictsBothDays(expression: string): boolean {
  const fields = validateDetailed(expression).fields;
  return fields !== undefined && fields.dayOfMonth.length < 31 && fields.dayOfWeek.length < 7;
}
