// The problem of a machine list (an image's `machines:`, a stack's `x-berth.machines`) naming a
// machine berth.yaml does not define.
import type { Problem } from "./problem.ts";
import { formatPath } from "./read-document.ts";
import type { ParsedDocument } from "./read-document.ts";

export function unknownMachines(
  machines: readonly string[] | undefined,
  known: readonly string[],
  at: { file: string; doc: ParsedDocument; path: readonly PropertyKey[] },
): Problem[] {
  if (known.length === 0) return [];
  return (machines ?? []).flatMap((machine, index) =>
    known.includes(machine)
      ? []
      : [
          {
            file: at.file,
            line: at.doc.lineOf([...at.path, index]),
            field: formatPath([...at.path, index]),
            message: `unknown machine "${machine}" (berth.yaml machines: ${known.join(", ")})`,
          },
        ],
  );
}
