// .dockerignore semantics (moby patternmatcher): which context paths a build can see.
export type IgnoreRule = { negate: boolean; regex: RegExp };

export type IgnoreMatcher = {
  /** True when the context-relative path (forward slashes) is hidden from the build. */
  ignores(path: string): boolean;
  /** True when some "!" rule could re-include a path below an ignored directory. */
  readonly hasExceptions: boolean;
};

/** Parses .dockerignore text: comments, blank lines, "!" exceptions, leading "/" and "./" dropped. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    let negate = false;
    if (line.startsWith("!")) {
      negate = true;
      line = line.slice(1).trim();
    }
    const cleaned = cleanPattern(line);
    if (cleaned === "") continue;
    rules.push({ negate, regex: globToRegex(cleaned) });
  }
  return rules;
}

export function createIgnoreMatcher(rules: readonly IgnoreRule[]): IgnoreMatcher {
  return {
    hasExceptions: rules.some((rule) => rule.negate),
    ignores(path) {
      const prefixes = parentsAndSelf(path);
      let ignored = false;
      for (const rule of rules) {
        if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.negate;
      }
      return ignored;
    },
  };
}

function cleanPattern(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function parentsAndSelf(path: string): string[] {
  const parts = path.split("/");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** Go filepath.Match plus "**" (any number of directories), anchored at the context root. */
export function globToRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i] ?? "";
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i += 1;
        if (pattern[i + 1] === "/") {
          i += 1;
          out += "(?:.*/)?";
        } else out += ".*";
      } else out += "[^/]*";
    } else if (ch === "?") out += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) out += "\\[";
      else {
        out += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (ch === "\\" && i + 1 < pattern.length) {
      i += 1;
      out += escapeRegex(pattern[i] ?? "");
    } else out += escapeRegex(ch);
  }
  return new RegExp(`^${out}$`);
}

function escapeRegex(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
