import { describe, expect, it } from "vitest";
import { inputHash } from "./input-hash.ts";
import type { InputHashParts } from "./input-hash.ts";

const base: InputHashParts = {
  name: "app",
  platform: "linux/amd64",
  dockerfileText: "FROM base\nRUN true\n",
  contextHash: "c".repeat(64),
  buildArgs: { A: "1", B: "2" },
  parents: { base: "p".repeat(64) },
};

describe("input hash", () => {
  it("is a stable sha256 that ignores the order args were given in", () => {
    const again = inputHash({ ...base, buildArgs: { B: "2", A: "1" } });
    expect(inputHash(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toBe(inputHash(base));
  });

  it.each([
    ["Dockerfile", { dockerfileText: "FROM base\nRUN false\n" }],
    ["context", { contextHash: "d".repeat(64) }],
    ["build args", { buildArgs: { A: "1", B: "3" } }],
    ["platform", { platform: "linux/arm64" }],
    ["parent hash", { parents: { base: "q".repeat(64) } }],
    ["name", { name: "other" }],
  ] as const)("changes when the %s changes", (_what, change) => {
    expect(inputHash({ ...base, ...change })).not.toBe(inputHash(base));
  });
});
