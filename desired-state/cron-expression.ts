// Cron expressions (node-cron's syntax: 5 fields, or 6 with seconds first): parsing with
// readable errors, and the next firing in the host's local time. Pure; no Intl (see docs/decisions.md).

export type CronExpression = {
  readonly source: string;
  readonly seconds: ReadonlySet<number>;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday (7 is accepted and read as 0). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Vixie cron's rule: when both day fields are restricted, either one matching is enough. */
  readonly dayOr: boolean;
};

type FieldSpec = { name: string; min: number; max: number; names?: readonly string[] };

const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] as const;
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

const SECOND: FieldSpec = { name: "second", min: 0, max: 59 };
const MINUTE: FieldSpec = { name: "minute", min: 0, max: 59 };
const HOUR: FieldSpec = { name: "hour", min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: "day of month", min: 1, max: 31 };
const MONTH: FieldSpec = { name: "month", min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldSpec = { name: "day of week", min: 0, max: 7, names: DAY_NAMES };

function parseValue(text: string, spec: FieldSpec): number {
  const named = spec.names && /^[a-z]{3}$/i.test(text) ? spec.names.indexOf(text.toLowerCase()) : -1;
  if (named >= 0) return named + (spec === MONTH ? 1 : 0);
  if (!/^\d+$/.test(text)) throw new Error(`${spec.name}: "${text}" is not a number${spec.names ? " or a name" : ""}`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) throw new Error(`${spec.name}: ${value} is outside ${spec.min}-${spec.max}`);
  return value;
}

function parseField(text: string, spec: FieldSpec): { values: Set<number>; restricted: boolean } {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText, extra] = part.split("/");
    if (extra !== undefined || range === "") throw new Error(`${spec.name}: "${part}" is not a value, range or step`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? "1")) throw new Error(`${spec.name}: step "${stepText}" must be a positive whole number`);
    let from: number;
    let to: number;
    if (range === "*") {
      [from, to] = [spec.min, spec.max];
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      [from, to] = [parseValue(a, spec), parseValue(b, spec)];
      if (from > to) throw new Error(`${spec.name}: range "${range}" runs backwards`);
    } else {
      from = parseValue(range, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(spec === DAY_OF_WEEK && v === 7 ? 0 : v);
  }
  return { values, restricted: text !== "*" };
}

/** Parses an expression; throws an Error whose message names the field at fault. */
export function parseCron(source: string): CronExpression {
  const fields = source.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) throw new Error(`expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got ${fields.length}`);
  const withSeconds = fields.length === 6 ? fields : ["0", ...fields];
  const [s = "", mi = "", h = "", dom = "", mo = "", dow = ""] = withSeconds;
  const days = parseField(dom, DAY_OF_MONTH);
  const weekdays = parseField(dow, DAY_OF_WEEK);
  return {
    source,
    seconds: parseField(s, SECOND).values,
    minutes: parseField(mi, MINUTE).values,
    hours: parseField(h, HOUR).values,
    daysOfMonth: days.values,
    months: parseField(mo, MONTH).values,
    daysOfWeek: weekdays.values,
    dayOr: days.restricted && weekdays.restricted,
  };
}

/** Why an expression is not valid cron, or undefined when it is. */
export function cronProblem(source: string): string | undefined {
  try {
    parseCron(source);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function dayMatches(cron: CronExpression, date: Date): boolean {
  const dom = cron.daysOfMonth.has(date.getDate());
  const dow = cron.daysOfWeek.has(date.getDay());
  return cron.dayOr ? dom || dow : dom && dow;
}

/** The first firing strictly after `after` (local time), or undefined when none comes within 8 years (e.g. "0 0 31 2 *"). */
export function nextCronRun(cron: CronExpression, after: Date): Date | undefined {
  const t = new Date(after.getTime());
  t.setMilliseconds(0);
  t.setSeconds(t.getSeconds() + 1);
  const limit = after.getTime() + 8 * 366 * 24 * 3600 * 1000;
  while (t.getTime() <= limit) {
    if (!cron.months.has(t.getMonth() + 1)) {
      t.setMonth(t.getMonth() + 1, 1);
      t.setHours(0, 0, 0);
    } else if (!dayMatches(cron, t)) {
      t.setDate(t.getDate() + 1);
      t.setHours(0, 0, 0);
    } else if (!cron.hours.has(t.getHours())) {
      t.setHours(t.getHours() + 1, 0, 0);
    } else if (!cron.minutes.has(t.getMinutes())) {
      t.setMinutes(t.getMinutes() + 1, 0);
    } else if (!cron.seconds.has(t.getSeconds())) {
      t.setSeconds(t.getSeconds() + 1);
    } else {
      return t;
    }
  }
  return undefined;
}
