// The content-addressed input hash of one image (Nix-style: parents enter by their input hash).
import { createHash } from "node:crypto";

export type InputHashParts = {
  name: string;
  platform: string;
  dockerfileText: string;
  contextHash: string;
  /** Every build arg the build receives (explicit args and injected profile args). */
  buildArgs: Readonly<Record<string, string>>;
  /** Input hashes of the berth images it builds FROM, by name. */
  parents: Readonly<Record<string, string>>;
};

export const INPUT_HASH_VERSION = "berth-image-v1";

function sortedPairs(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function inputHash(parts: InputHashParts): string {
  const canonical = JSON.stringify([
    INPUT_HASH_VERSION,
    parts.name,
    parts.platform,
    createHash("sha256").update(parts.dockerfileText).digest("hex"),
    parts.contextHash,
    sortedPairs(parts.buildArgs),
    sortedPairs(parts.parents),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}
