// Reads the desired state's files within the limits (regular files inside the root), keeping
// each text it read for the content revision of a root that is not a git checkout.
import type { Problem } from "./problem.ts";
import { readFileLimited } from "./read-document.ts";
import { err, ok } from "./result.ts";
import type { Result } from "./result.ts";

export type TreeReader = {
  /** The file at `abs` (named `rel` in problems), refused when its real path leaves the root. */
  read(abs: string, rel: string): Promise<Result<string, Problem[]>>;
  /** (path, text) of every file read so far. */
  readonly files: ReadonlyArray<readonly [string, string]>;
};

export function createTreeReader(realRoot: string): TreeReader {
  const files: Array<[string, string]> = [];
  return {
    files,
    async read(abs, rel) {
      const read = await readFileLimited(abs, rel, realRoot);
      if (!read.ok) return err(read.problems);
      files.push([rel, read.text]);
      return ok(read.text);
    },
  };
}
