import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, logFormat } from "./logger.ts";

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

describe("logger", () => {
  it("writes a human-readable line with the fields below it when pretty, secrets still redacted", () => {
    const out = collector();
    const logger = createLogger({ level: "info", destination: out.stream, format: "pretty" });
    logger.info({ image: "base-utils", token: "s3cret" }, "image built");
    const text = out.text();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: image built\n/);
    expect(text).toContain('image: "base-utils"');
    expect(text).toContain('token: "[redacted]"');
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain('"level"');
  });

  it("writes one JSON object per line when json", () => {
    const out = collector();
    createLogger({ level: "info", destination: out.stream, format: "json" }).warn({ stack: "shop" }, "service swap failed");
    expect(JSON.parse(out.text())).toMatchObject({ level: 40, msg: "service swap failed", stack: "shop", app: "berth" });
  });

  it("is pretty on a terminal and JSON otherwise, unless BERTH_LOG_FORMAT says which", () => {
    expect(logFormat({}, true)).toBe("pretty");
    expect(logFormat({}, false)).toBe("json");
    expect(logFormat({ BERTH_LOG_FORMAT: "json" }, true)).toBe("json");
    expect(logFormat({ BERTH_LOG_FORMAT: "pretty" }, false)).toBe("pretty");
  });
});
