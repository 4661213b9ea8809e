// Structured logging (pino): fixed messages, details as fields, secrets redacted; JSON lines, or
// human-readable lines on a terminal (pino-pretty as a synchronous stream, no worker thread).
import { createRequire } from "node:module";
import { pino } from "pino";
import type { DestinationStream, Logger } from "pino";
import type { PinoPretty, PrettyOptions, PrettyStream } from "pino-pretty";

export type { Logger } from "pino";

export type LogFormat = "json" | "pretty";

/** BERTH_LOG_FORMAT (or --log-format) when set, else pretty on a terminal and JSON otherwise. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY === true): LogFormat {
  const wanted = env["BERTH_LOG_FORMAT"];
  if (wanted === "json" || wanted === "pretty") return wanted;
  return tty ? "pretty" : "json";
}

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream; format?: LogFormat } = {}): Logger {
  const format = options.format ?? (options.destination ? "json" : logFormat());
  const destination: DestinationStream | NodeJS.WritableStream =
    format === "pretty"
      ? prettyStream({
          sync: true,
          destination: options.destination ?? 2,
          colorize: !options.destination && process.stderr.isTTY === true,
          translateTime: "SYS:HH:MM:ss.l",
          ignore: "pid,hostname,app",
        })
      : (options.destination ?? pino.destination({ dest: 2, sync: false }));
  return pino(
    {
      level: options.level ?? process.env["BERTH_LOG_LEVEL"] ?? "info",
      base: { app: "berth" },
      redact: {
        paths: ["token", "secret", "password", "*.token", "*.secret", "*.password", "headers.authorization"],
        censor: "[redacted]",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** pino-pretty, loaded only when a person reads the logs (it costs as much start-up time as pino). */
function prettyStream(options: PrettyOptions): PrettyStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as { PinoPretty: typeof PinoPretty };
  return pretty.PinoPretty(options);
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
