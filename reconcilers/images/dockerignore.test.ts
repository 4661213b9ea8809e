import { describe, expect, it } from "vitest";
import { createIgnoreMatcher, parseDockerignore } from "./dockerignore.ts";

function matcher(text: string) {
  return createIgnoreMatcher(parseDockerignore(text));
}

describe(".dockerignore matching", () => {
  it("hides a named directory and everything below it", () => {
    const m = matcher("node_modules\n");
    expect(m.ignores("node_modules")).toBe(true);
    expect(m.ignores("node_modules/a/b.js")).toBe(true);
    expect(m.ignores("src/node_modules")).toBe(false);
  });

  it("anchors single-star patterns at the root but lets ** cross directories", () => {
    const m = matcher("*.log\n**/*.tmp\n");
    expect(m.ignores("a.log")).toBe(true);
    expect(m.ignores("dir/a.log")).toBe(false);
    expect(m.ignores("dir/deep/x.tmp")).toBe(true);
    expect(m.ignores("x.tmp")).toBe(true);
  });

  it("lets a later exception re-include a file, last rule wins", () => {
    const m = matcher("# comment\n*.md\n!README.md\n");
    expect(m.ignores("CHANGES.md")).toBe(true);
    expect(m.ignores("README.md")).toBe(false);
    expect(m.hasExceptions).toBe(true);
  });

  it("drops leading slashes and ./ from patterns", () => {
    const m = matcher("/build\n./dist/\n");
    expect(m.ignores("build/x")).toBe(true);
    expect(m.ignores("dist/y")).toBe(true);
  });
});
