import { describe, expect, it } from "vitest";
import { formatKey, parseKey, parseKeyOf } from "./resource-key.ts";
import type { ResourceKey } from "./resource-key.ts";

describe("resource keys", () => {
  const keys: ResourceKey[] = [
    { kind: "git" },
    { kind: "source" },
    { kind: "images" },
    { kind: "image", machine: "mainpc", name: "ml-base" },
    { kind: "image", machine: "mainpc", name: "hub/ai-hub" },
    { kind: "stack", name: "ai-hub" },
    { kind: "service", stack: "ai-hub", service: "api" },
    { kind: "prune" },
    { kind: "prune", machine: "pc2" },
  ];

  it("reads back every key it writes", () => {
    for (const key of keys) expect(parseKey(formatKey(key))).toEqual(key);
  });

  it("writes the text forms the status files already use", () => {
    expect(keys.map(formatKey)).toEqual([
      "git",
      "source",
      "images",
      "image/mainpc/ml-base",
      "image/mainpc/hub/ai-hub",
      "stack/ai-hub",
      "service/ai-hub/api",
      "prune",
      "prune/pc2",
    ]);
  });

  it("refuses text no key produces", () => {
    for (const text of [
      "",
      "stacks/x",
      "stack/",
      "stack/a/b",
      "service/a",
      "service/a/",
      "image/m",
      "image/m/",
      "image//x",
      "source/x",
      "git/",
    ])
      expect(parseKey(text), text).toBeUndefined();
  });

  it("parses a key of the kind asked for only", () => {
    expect(parseKeyOf("service", "service/web/api")).toEqual({ kind: "service", stack: "web", service: "api" });
    expect(parseKeyOf("service", "stack/web")).toBeUndefined();
  });
});
