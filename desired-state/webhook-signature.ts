// Verifies GitHub's `X-Hub-Signature-256: sha256=<hex>` webhook header (HMAC-SHA256 of the raw body).
import { createHmac, timingSafeEqual } from "node:crypto";

const HEADER_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/**
 * True only when `header` is a well-formed `sha256=<64 hex>` HMAC of `body` under `secret`.
 * Fails closed: a missing or malformed header, or an empty secret, is never valid.
 * `body` must be the raw request bytes, before any JSON parsing.
 */
export function verifyGithubSignature(body: Buffer, header: string | undefined, secret: string): boolean {
  const check = githubSignatureCheck(header, secret);
  return check !== undefined && check.update(body).matches();
}

export type SignatureCheck = { update(chunk: Buffer): SignatureCheck; matches(): boolean };

/**
 * The same check over a body that arrives in chunks (hashed as it streams, never buffered).
 * Undefined when the header is missing or malformed or the secret empty: refuse before reading.
 */
export function githubSignatureCheck(header: string | undefined, secret: string): SignatureCheck | undefined {
  if (!secret || header === undefined) return undefined;
  const hex = HEADER_PATTERN.exec(header.trim())?.[1];
  if (!hex) return undefined;
  const hmac = createHmac("sha256", secret);
  const check: SignatureCheck = {
    update(chunk) {
      hmac.update(chunk);
      return check;
    },
    matches() {
      const expected = hmac.digest();
      const given = Buffer.from(hex, "hex");
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
  return check;
}
