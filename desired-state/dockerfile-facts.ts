// Reads what berth needs from a Dockerfile: its FROM references and declared ARGs.
import type { DockerfileFacts } from "./desired-state.ts";

/** Joins continuation lines and drops comments and parser directives. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    out.push(current + line);
    current = "";
  }
  if (current.trim() !== "") out.push(current.trim());
  return out;
}

export function dockerfileFacts(text: string, berthImages: ReadonlySet<string>): DockerfileFacts {
  const fromRefs: string[] = [];
  const parents: string[] = [];
  const declaredArgs = new Set<string>();
  const stages = new Set<string>();
  for (const instruction of instructions(text)) {
    const [keyword = "", ...rest] = instruction.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === "FROM") {
      const words = rest.filter((w) => !w.startsWith("--"));
      const ref = words[0];
      if (!ref) continue;
      if (!stages.has(ref.toLowerCase())) {
        fromRefs.push(ref);
        if (berthImages.has(ref) && !parents.includes(ref)) parents.push(ref);
      }
      if (words[1]?.toUpperCase() === "AS" && words[2]) stages.add(words[2].toLowerCase());
    } else if (upper === "ARG") {
      for (const word of rest) {
        const name = word.split("=")[0];
        if (name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) declaredArgs.add(name);
      }
    }
  }
  return { fromRefs, parents, declaredArgs: [...declaredArgs].sort() };
}
