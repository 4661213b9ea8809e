import { describe, expect, it } from "vitest";
import { imageResource } from "../status/progress-events.ts";
import { createProgressWriter } from "./progress-writer.ts";

const base = imageResource("base");

function capture(tty: boolean) {
  const out: string[] = [];
  let now = 0;
  const writer = createProgressWriter({ write: (t) => void out.push(t), tty, columns: 80 }, { now: () => now, tickMs: 60_000 });
  return { out, writer, at: (ms: number) => void (now = ms) };
}

describe("progress writer", () => {
  it("on a pipe writes only lines that stay: headers and one summary per finished resource", () => {
    const { out, writer } = capture(false);
    writer.line("berth apply: revision r1, machine m1");
    writer.sink({ type: "phase", resource: base, phase: "building" });
    writer.sink({ type: "steps", resource: base, done: 1, total: 2, cached: 0 });
    writer.sink({ type: "done", resource: base, ok: true, action: "build", reason: "Built", message: "built" });
    writer.close();
    expect(out.join("")).toBe("berth apply: revision r1, machine m1\n✓ image base  build Built (0.0 s, 1/2 steps, 0 cached)\n");
  });

  it("on a terminal redraws the live lines in place and leaves the summary above them", () => {
    const { out, writer, at } = capture(true);
    writer.sink({ type: "phase", resource: base, phase: "building" });
    at(2_000);
    writer.sink({ type: "steps", resource: base, done: 1, total: 2, cached: 1 });
    at(3_000);
    writer.sink({ type: "done", resource: base, ok: true, action: "build", reason: "Built", message: "built" });
    writer.close();
    const [first, second, third] = out;
    expect(first).toMatch(/image base {2}building {2}0s\n$/);
    expect(second?.startsWith("\x1b[1F\x1b[J")).toBe(true);
    expect(second).toMatch(/image base {2}building {2}step 1\/2 \(1 cached\) {2}2s\n$/);
    expect(third).toBe("\x1b[1F\x1b[J✓ image base  build Built (3.0 s, 1/2 steps, 1 cached)\n");
    expect(out).toHaveLength(3);
  });

  it("writes nothing when quiet", () => {
    const out: string[] = [];
    const writer = createProgressWriter({ write: (t) => void out.push(t), tty: true }, { quiet: true });
    writer.line("header");
    writer.sink({ type: "done", resource: base, ok: true, action: "reuse", reason: "UpToDate", message: "" });
    writer.close();
    expect(out).toEqual([]);
  });
});

describe("progress writer and logs", () => {
  it("on a terminal prints log lines above the live lines, which are drawn again below them", async () => {
    const { out, writer } = capture(true);
    writer.sink({ type: "phase", resource: base, phase: "building" });
    await new Promise<void>((resolve) => writer.logs?.write("[12:00:00.000] WARN: image push failed\n", () => resolve()));
    writer.close();
    expect(out[1]?.startsWith("\x1b[1F\x1b[J[12:00:00.000] WARN: image push failed\n")).toBe(true);
    expect(out[1]).toMatch(/WARN: image push failed\n. image base {2}building {2}0s\n$/u);
  });

  it("leaves logs on their own stream on a pipe", () => {
    expect(capture(false).writer.logs).toBeUndefined();
  });
});
