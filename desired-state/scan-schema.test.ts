// The `scan:` schema is strict like the rest of berth.yaml: typos, unknown severities and bad
// expiry dates are errors naming the field.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { berthFileSchema } from "./berth-file-schema.ts";
import { serviceExtensionSchema } from "./compose-extension-schema.ts";

const base = { version: 1, machines: { box: { profile: "box" } } };

function problems(value: unknown): string {
  const parsed = berthFileSchema.safeParse(value);
  return parsed.success ? "" : z.prettifyError(parsed.error);
}

describe("scan schema", () => {
  it("vuln: accepts the gate's settings, with durations in seconds", () => {
    const parsed = berthFileSchema.parse({
      ...base,
      scan: {
        command: "grype",
        failOn: ["critical", "high"],
        ignoreUnfixed: true,
        timeout: "2m",
        enforce: true,
        maxAge: "12h",
        allow: [{ id: "CVE-2024-45491", expires: "2026-12-31", reason: "not reachable: no XML parsing" }],
      },
    });

    expect(parsed.scan).toMatchObject({ command: "grype", timeout: 120, maxAge: 43200, failOn: ["critical", "high"] });
  });

  it("vuln: names the field of a typo, an unknown severity, an unknown scanner and a bad expiry date", () => {
    expect(problems({ ...base, scan: { failon: ["critical"] } })).toContain("scan");
    expect(problems({ ...base, scan: { failOn: ["severe"] } })).toMatch(/a severity is one of critical, high[\s\S]*at scan\.failOn\[0\]/);
    expect(problems({ ...base, scan: { command: "clair" } })).toContain("scan.command");
    expect(problems({ ...base, scan: { allow: [{ id: "CVE-2024-1", expires: "next year" }] } })).toMatch(
      /must be a date like 2026-12-31[\s\S]*at scan\.allow\[0\]\.expires/,
    );
  });

  it("vuln: lets a service override the gate but not pick the scanner", () => {
    expect(serviceExtensionSchema.safeParse({ scan: { failOn: ["high"], enforce: false } }).success).toBe(true);
    expect(serviceExtensionSchema.safeParse({ scan: { command: "grype" } }).success).toBe(false);
  });
});
