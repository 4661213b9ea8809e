// Behaviour of the GitHub webhook signature check.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyGithubSignature } from "./webhook-signature.ts";

const secret = "It's a Secret to Everybody";
const body = Buffer.from("Hello, World!");

function sign(payload: Buffer, key: string): string {
  return `sha256=${createHmac("sha256", key).update(payload).digest("hex")}`;
}

describe("verifyGithubSignature", () => {
  it("accepts GitHub's published example signature", () => {
    // From docs.github.com "Validating webhook deliveries".
    const header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(verifyGithubSignature(body, header, secret)).toBe(true);
  });

  it("accepts an upper-case hex digest", () => {
    expect(verifyGithubSignature(body, sign(body, secret).toUpperCase().replace("SHA256=", "sha256="), secret)).toBe(true);
  });

  it("rejects a signature made with another secret", () => {
    expect(verifyGithubSignature(body, sign(body, "other secret"), secret)).toBe(false);
  });

  it("rejects a signature of another body", () => {
    expect(verifyGithubSignature(Buffer.from("Hello, World?"), sign(body, secret), secret)).toBe(false);
  });

  it("rejects a missing header", () => {
    expect(verifyGithubSignature(body, undefined, secret)).toBe(false);
    expect(verifyGithubSignature(body, "", secret)).toBe(false);
  });

  it("rejects malformed headers", () => {
    const good = sign(body, secret);
    const hex = good.slice("sha256=".length);
    for (const header of [
      hex,
      `sha1=${hex}`,
      `sha256=${hex.slice(0, 63)}`,
      `sha256=${hex}00`,
      `sha256=${hex.slice(0, 62)}zz`,
      "sha256=",
      `sha256= ${hex}`,
    ]) {
      expect(verifyGithubSignature(body, header, secret), header).toBe(false);
    }
  });

  it("rejects everything when no secret is configured", () => {
    expect(verifyGithubSignature(body, sign(body, ""), "")).toBe(false);
  });
});
