// Reads what berth needs from a Dockerfile: its FROM references, declared ARGs and final stage.
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
  const stages = new Map<string, { from: string; user?: string }>();
  let final: { from: string; user?: string } | undefined;
  for (const instruction of instructions(text)) {
    const [keyword = "", ...rest] = instruction.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === "FROM") {
      const words = rest.filter((w) => !w.startsWith("--"));
      const ref = words[0];
      if (!ref) continue;
      const stage = stages.get(ref.toLowerCase());
      if (!stage) {
        fromRefs.push(ref);
        if (berthImages.has(ref) && !parents.includes(ref)) parents.push(ref);
      }
      final = stage ? { ...stage } : { from: ref };
      if (words[1]?.toUpperCase() === "AS" && words[2]) stages.set(words[2].toLowerCase(), final);
    } else if (upper === "USER" && final && rest[0]) {
      final.user = rest[0];
    } else if (upper === "ARG") {
      for (const word of rest) {
        const name = word.split("=")[0];
        if (name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) declaredArgs.add(name);
      }
    }
  }
  return { fromRefs, parents, declaredArgs: [...declaredArgs].sort(), ...(final ? { final: { ...final } } : {}) };
}
