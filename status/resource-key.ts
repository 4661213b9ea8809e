// The key vocabulary: every resource berth queues work for or keeps status of, and its one text form.
/**
 * Work keys (the queue) and status keys (the status store) share this union:
 * - `git`: fetch and publish the desired-state repository (work only);
 * - `source`: load and admit the desired state; its status is the host's pass record;
 * - `images`: build or pull every image of the machine (work only);
 * - `image`: one image's status (`image/<machine>/<name>`; the name may hold `/`);
 * - `stack`: one compose stack, as work and as status (`stack/<name>`);
 * - `service`: one service's status (`service/<stack>/<service>`);
 * - `prune`: the prune run as work (`prune`), its record per machine (`prune/<machine>`).
 */
export type ResourceKey =
  | { kind: "git" }
  | { kind: "source" }
  | { kind: "images" }
  | { kind: "image"; machine: string; name: string }
  | { kind: "stack"; name: string }
  | { kind: "service"; stack: string; service: string }
  | { kind: "prune"; machine?: string };

export type KeyKind = ResourceKey["kind"];

/** The key of one kind, e.g. `KeyOf<"stack">` is `{ kind: "stack"; name: string }`. */
export type KeyOf<K extends KeyKind> = Extract<ResourceKey, { kind: K }>;

export function formatKey(key: ResourceKey): string {
  switch (key.kind) {
    case "git":
    case "source":
    case "images":
      return key.kind;
    case "image":
      return `image/${key.machine}/${key.name}`;
    case "stack":
      return `stack/${key.name}`;
    case "service":
      return `service/${key.stack}/${key.service}`;
    case "prune":
      return key.machine === undefined ? "prune" : `prune/${key.machine}`;
  }
}

/** The key a text names, or undefined for text no `formatKey` produces. */
export function parseKey(text: string): ResourceKey | undefined {
  const [kind = "", ...rest] = text.split("/");
  const first = rest[0] ?? "";
  switch (kind) {
    case "git":
    case "source":
    case "images":
      return rest.length === 0 ? { kind } : undefined;
    case "prune":
      if (rest.length === 0) return { kind };
      return rest.length === 1 && first !== "" ? { kind, machine: first } : undefined;
    case "stack":
      return rest.length === 1 && first !== "" ? { kind, name: first } : undefined;
    case "service":
      return rest.length === 2 && first !== "" && rest[1] ? { kind, stack: first, service: rest[1] } : undefined;
    case "image": {
      const name = rest.slice(1).join("/");
      return rest.length >= 2 && first !== "" && name !== "" && !rest.slice(1).includes("") ? { kind, machine: first, name } : undefined;
    }
    default:
      return undefined;
  }
}

/** The key of a given kind a text names, or undefined (e.g. `parseKeyOf("service", status.key)`). */
export function parseKeyOf<K extends KeyKind>(kind: K, text: string): KeyOf<K> | undefined {
  const key = parseKey(text);
  return key?.kind === kind ? (key as KeyOf<K>) : undefined;
}
