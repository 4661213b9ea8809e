// Structured JSON logging (pino): fixed messages, details as fields, secrets redacted.
import { pino } from "pino";
import type { Logger } from "pino";

export type { Logger } from "pino";

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env["BERTH_LOG_LEVEL"] ?? "info",
      base: { app: "berth" },
      redact: { paths: ["token", "secret", "password", "*.token", "*.secret", "*.password", "headers.authorization"], censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
