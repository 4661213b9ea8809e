// .dockerignore semantics through @balena/dockerignore, checked against cases from moby's own
// patternmatcher tests (github.com/moby/patternmatcher, TestMatches with MatchesOrParentMatches).
import { describe, expect, it } from "vitest";
import { parseDockerignore } from "./hash-context.ts";

describe(".dockerignore matching", () => {
  it("hides a named directory and everything below it, only at the context root", () => {
    const m = parseDockerignore("node_modules\n");
    expect(m.ignores("node_modules")).toBe(true);
    expect(m.ignores("node_modules/a/b.js")).toBe(true);
    expect(m.ignores("src/node_modules")).toBe(false);
  });

  it("anchors single-star patterns at the root but lets ** cross directories", () => {
    const m = parseDockerignore("*.log\n**/*.tmp\n");
    expect(m.ignores("a.log")).toBe(true);
    expect(m.ignores("dir/a.log")).toBe(false);
    expect(m.ignores("dir/deep/x.tmp")).toBe(true);
    expect(m.ignores("x.tmp")).toBe(true);
  });

  it("lets a later exception re-include a file, last rule wins, comments skipped", () => {
    const m = parseDockerignore("# comment\n*.md\n!README.md\n");
    expect(m.ignores("CHANGES.md")).toBe(true);
    expect(m.ignores("README.md")).toBe(false);
    expect(m.hasExceptions).toBe(true);
    expect(parseDockerignore("*.md\n").hasExceptions).toBe(false);
  });

  it("drops leading slashes and ./ from patterns", () => {
    const m = parseDockerignore("/build\n./dist/\n");
    expect(m.ignores("build/x")).toBe(true);
    expect(m.ignores("dist/y")).toBe(true);
  });

  it("is case-sensitive, as Docker is on Linux", () => {
    expect(parseDockerignore("Secret.txt\n").ignores("secret.txt")).toBe(false);
  });

  // [pattern, path, ignored] from moby's TestMatches (pass != fail means the path or a parent matches).
  const mobyCases: Array<[string, string, boolean]> = [
    ["**", "file", true],
    ["**", "dir/file", true],
    ["**/", "dir/file", true],
    ["**/**", "dir/file", true],
    ["dir/**", "dir/file", true],
    ["dir/**", "dir/dir2/file", true],
    ["**/dir", "dir", true],
    ["**/dir", "dir/file", true],
    ["**/dir2/*", "dir/dir2/file", true],
    ["**/dir2/**", "dir/dir2/dir3/file", true],
    ["**file", "file", true],
    ["**file", "dir/file", true],
    ["**/file", "dir/dir/file", true],
    ["**/file*", "dir/dir/file.txt", true],
    ["**/file*.txt", "dir/dir/file.txt", true],
    ["**/**/*.txt", "dir/dir/file.txt", true],
    ["**/**/*.txt2", "dir/dir/file.txt", false],
    ["**/*.txt", "file.txt", true],
    ["a**/*.txt", "a/dir/dir/file.txt", true],
    ["a/*.txt", "a/dir/file.txt", false],
    ["a/*.txt", "a/file.txt", true],
    ["a[b-d]e", "ae", false],
    ["a[b-d]e", "ace", true],
    ["a[b-d]e", "aae", false],
    ["a[^b-d]e", "aze", true],
    [".*", ".foo", true],
    [".*", "foo", false],
    ["abc.def", "abcdef", false],
    ["abc.def", "abc.def", true],
    ["abc?def", "abcZdef", true],
    ["abc?def", "abcdef", false],
    ["**/foo/bar", "foo/bar", true],
    ["**/foo/bar", "dir/dir2/foo/bar", true],
    ["abc/**", "abc", false],
    ["abc/**", "abc/def/ghi", true],
    ["**/.foo", ".foo", true],
    ["**/.foo", "bar.foo", false],
    ["a(b)c/def", "a(b)c/def", true],
    ["a(b)c/def", "a(b)c/xyz", false],
    ["a.|)$(}+{bc", "a.|)$(}+{bc", true],
    ["dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
    ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "ab", false],
  ];
  it.each(mobyCases)("moby: pattern %j on %j → ignored %j", (pattern, path, ignored) => {
    expect(parseDockerignore(`${pattern}\n`).ignores(path)).toBe(ignored);
  });

  // moby's multi-pattern cases and its folder-exception tests.
  const mobyMulti: Array<[string[], string, boolean]> = [
    [["**", "!util/docker/web"], "util/docker/web/foo", false],
    [["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true],
    [["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
    [["docs", "!docs/README.md"], "docs/README.md", false],
    [["docs/", "!docs/README.md"], "docs/README.md", false],
    [["docs/*", "!docs/README.md"], "docs/README.md", false],
    [["*.go", "!fileutils.go"], "fileutils.go", false],
    [["!fileutils.go", "*.go"], "fileutils.go", true],
  ];
  it.each(mobyMulti)("moby: patterns %j on %j → ignored %j", (patterns, path, ignored) => {
    expect(parseDockerignore(patterns.join("\n")).ignores(path)).toBe(ignored);
  });
});
