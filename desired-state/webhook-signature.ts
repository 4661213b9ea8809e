// Verifies GitHub's `X-Hub-Signature-256: sha256=<hex>` webhook header (HMAC-SHA256 of the raw body).
import { createHmac, timingSafeEqual } from "node:crypto";

const HEADER_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/**
 * True only when `header` is a well-formed `sha256=<64 hex>` HMAC of `body` under `secret`.
 * Fails closed: a missing or malformed header, or an empty secret, is never valid.
 * `body` must be the raw request bytes, before any JSON parsing.
 */
export function verifyGithubSignature(body: Buffer, header: string | undefined, secret: string): boolean {
  if (!secret || header === undefined) return false;
  const match = HEADER_PATTERN.exec(header.trim());
  const hex = match?.[1];
  if (!hex) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(hex, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
