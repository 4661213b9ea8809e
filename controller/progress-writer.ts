// Writes progress for a person: on a terminal, live lines redrawn in place above which each
// finished resource collapses to its summary line; on a pipe, summary lines only; quiet, nothing.
import { Writable } from "node:stream";
import type { ProgressSink } from "../status/progress-events.ts";
import { applyProgress, emptyProgress, renderLive, summaryLine } from "./progress-view.ts";
import type { ProgressEntry } from "./progress-view.ts";

export type ProgressOutput = { write(text: string): void; tty: boolean; columns?: number };

export type ProgressWriter = {
  sink: ProgressSink;
  /** A line that stays (headers, final results). */
  line(text: string): void;
  /** Stops redrawing and clears the live lines. */
  close(): void;
  /**
   * On a terminal, where log lines must go so that they print above the live lines instead of
   * being overwritten by the next redraw; undefined elsewhere (logs keep their own stream).
   */
  logs?: NodeJS.WritableStream;
};

export function createProgressWriter(
  out: ProgressOutput,
  options: { quiet?: boolean; now?: () => number; tickMs?: number } = {},
): ProgressWriter {
  if (options.quiet) return { sink: () => undefined, line: () => undefined, close: () => undefined };
  const now = options.now ?? Date.now;
  let model = emptyProgress;
  const printed = new Set<ProgressEntry>();
  let shown = 0;

  function draw(extra = "", live = out.tty): void {
    let text = shown > 0 ? `\x1b[${shown}F\x1b[J` : "";
    text += extra;
    for (const entry of model.entries) {
      if (!entry.done || printed.has(entry)) continue;
      printed.add(entry);
      text += `${summaryLine(entry)}\n`;
    }
    const lines = live ? renderLive(model, now(), Math.max(20, (out.columns ?? 100) - 1)) : [];
    for (const line of lines) text += `${line}\n`;
    shown = lines.length;
    if (text) out.write(text);
  }

  const timer = out.tty ? setInterval(() => draw(), options.tickMs ?? 100) : undefined;
  timer?.unref();
  const logs = out.tty
    ? new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          draw(chunk.toString());
          done();
        },
      })
    : undefined;
  return {
    ...(logs ? { logs } : {}),
    sink(event) {
      model = applyProgress(model, event, now());
      if (out.tty || event.type === "done") draw();
    },
    line(text) {
      draw(`${text}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      draw("", false);
    },
  };
}
