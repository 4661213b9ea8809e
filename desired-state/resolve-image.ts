// One image berth builds (an images/<name> folder or a stack service's `build:`) made concrete:
// its context and Dockerfile resolved inside the root, the Dockerfile read and its facts taken.
import { relative } from "node:path";
import type { ImageSpec } from "./desired-state.ts";
import { dockerfileFacts } from "./dockerfile-facts.ts";
import type { Problem } from "./problem.ts";
import { err, unless } from "./result.ts";
import type { Result } from "./result.ts";
import { resolveInside } from "./safe-path.ts";
import type { TreeReader } from "./tree-reader.ts";

export type ImageToResolve = Omit<ImageSpec, "context" | "dockerfile" | "dockerfileFacts"> & {
  /** The folder `context` is relative to, and the context and Dockerfile as written. */
  baseDir: string;
  contextNamed: string;
  dockerfileNamed: string;
  lineOf: (path: readonly PropertyKey[]) => number | undefined;
};

export async function resolveImage(
  image: ImageToResolve,
  at: { root: string; reader: TreeReader; imageNames: ReadonlySet<string> },
): Promise<Result<ImageSpec>> {
  const { baseDir, contextNamed, dockerfileNamed, lineOf, ...base } = image;
  const field = (key: "context" | "dockerfile"): string =>
    base.origin.kind === "service" ? `services.${base.origin.service}.build.${key}` : key;
  const context = await resolveInside(at.root, baseDir, contextNamed);
  if (!context.ok) return err([{ file: base.declaredIn, line: lineOf(["context"]), field: field("context"), message: context.message }]);
  // A service's Dockerfile is named from the stack's folder (as written); an image's from its context.
  const dockerfile = await resolveInside(at.root, base.origin.kind === "service" ? baseDir : context.path, dockerfileNamed);
  if (!dockerfile.ok)
    return err([
      {
        file: base.declaredIn,
        line: lineOf(["dockerfile"]),
        field: field("dockerfile"),
        message: dockerfile.message.replace("does not exist", "does not exist (missing Dockerfile)"),
      },
    ]);
  const relDockerfile = relative(at.root, dockerfile.path);
  const text = await at.reader.read(dockerfile.path, relDockerfile);
  if (!text.ok) return text;
  const facts = dockerfileFacts(text.value, new Set([...at.imageNames].filter((name) => name !== base.name)));
  const problems: Problem[] = [];
  if (facts.fromRefs.length === 0) problems.push({ file: relDockerfile, field: "FROM", message: "the Dockerfile has no FROM instruction" });
  // A self-reference is a cycle of one.
  if (facts.fromRefs.includes(base.name))
    problems.push({ file: relDockerfile, field: "FROM", message: `image cycle: ${base.name} → ${base.name}` });
  return unless(problems, () => ({ ...base, context: context.path, dockerfile: dockerfile.path, dockerfileFacts: facts }));
}
