// Phase 2 of loading a desired state: each file of the tree parsed on its own and checked
// against its schema (strict on berth's files and x-berth, loose on compose bodies), every
// problem with its line and field.
import type { z } from "zod";
import { profileSchema, RESERVED_VARIABLES } from "../profiles/profile-schema.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { berthFileSchema } from "./berth-file-schema.ts";
import type { BerthFile } from "./berth-file-schema.ts";
import { serviceExtensionSchema, stackExtensionSchema } from "./compose-extension-schema.ts";
import type { ServiceExtension, StackExtension } from "./compose-extension-schema.ts";
import { composeFileSchema, writtenServiceSchema } from "./compose-file-schema.ts";
import type { WrittenService } from "./compose-file-schema.ts";
import { imageFileSchema } from "./image-file-schema.ts";
import type { ImageFile } from "./image-file-schema.ts";
import type { Problem } from "./problem.ts";
import { issuesToProblems, parseYamlText } from "./read-document.ts";
import type { ParsedDocument } from "./read-document.ts";
import type { NamedFile, StackFile, Tree, TreeFile } from "./read-tree.ts";
import { collect, err, ok, unless } from "./result.ts";
import type { Result } from "./result.ts";
import { isRecord } from "../platform/is-record.ts";

export type BerthDocument = { file: BerthFile; doc: ParsedDocument };
export type ImageDocument = NamedFile & { doc: ParsedDocument; file: ImageFile };
/** A service as written (before compose normalises it) and its `x-berth`. */
export type RawService = { body: WrittenService | undefined; extension: ServiceExtension };
export type StackDocument = StackFile & {
  doc: ParsedDocument;
  /** The compose file's body as written. */
  body: Record<string, unknown>;
  extension: StackExtension;
  services: Map<string, RawService>;
};

export type Documents = { berth: BerthDocument; profiles: Record<string, Profile>; images: ImageDocument[]; stacks: StackDocument[] };

export function parseDocuments(tree: Tree): Result<Documents> {
  const berth = parseAgainst(tree.berth, berthFileSchema);
  const profiles = collect(tree.profiles.map(parseProfile));
  const images = collect(tree.images.map(parseImage));
  const stacks = collect(tree.stacks.map(parseStack));
  if (!berth.ok || !profiles.ok || !images.ok || !stacks.ok)
    return err([berth, profiles, images, stacks].flatMap((result) => (result.ok ? [] : result.error)));
  return ok({
    berth: { file: berth.value.value, doc: berth.value.doc },
    profiles: Object.fromEntries(profiles.value),
    images: images.value,
    stacks: stacks.value,
  });
}

/** Parses a file's YAML (JSON is YAML) and checks `read(value)` against `schema`. */
function parseAgainst<S extends z.ZodType>(
  file: TreeFile,
  schema: S,
  read: (value: unknown) => unknown = (value) => value,
): Result<{ doc: ParsedDocument; value: z.output<S> }> {
  const parsed = parseYamlText(file.text, file.rel);
  if (!parsed.ok) return err(parsed.problems);
  const result = schema.safeParse(read(parsed.doc.value));
  if (!result.success) return err(issuesToProblems(result.error.issues, file.rel, parsed.doc));
  return ok({ doc: parsed.doc, value: result.data });
}

/** A profile must be strict JSON; berth's own variables cannot be in it. */
function parseProfile(file: NamedFile): Result<[string, Profile]> {
  try {
    JSON.parse(file.text);
  } catch (error) {
    return err([{ file: file.rel, field: "", message: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` }]);
  }
  const parsed = parseAgainst(file, profileSchema);
  if (!parsed.ok) return parsed;
  const { doc, value } = parsed.value;
  const reserved = RESERVED_VARIABLES.filter((name) => name in value).map((name) => ({
    file: file.rel,
    line: doc.lineOf([name]),
    field: name,
    message: "is set by berth itself and cannot be in a profile",
  }));
  return unless(reserved, () => [file.name, value]);
}

function parseImage(file: NamedFile): Result<ImageDocument> {
  const parsed = parseAgainst(file, imageFileSchema, (value) => value ?? {});
  if (!parsed.ok) return parsed;
  const problems: Problem[] = /^[a-z0-9][a-z0-9_.-]*$/.test(file.name)
    ? []
    : [{ file: file.rel, field: "", message: `image directory name "${file.name}" must be lowercase letters, digits, "-", "_" or "."` }];
  return unless(problems, () => ({ ...file, doc: parsed.value.doc, file: parsed.value.value }));
}

/** The compose file's shape and berth's `x-berth` fields; compose itself checks the rest later. */
function parseStack(file: StackFile): Result<StackDocument> {
  const parsed = parseYamlText(file.text, file.rel);
  if (!parsed.ok) return err(parsed.problems);
  const doc = parsed.doc;
  const problems: Problem[] = [];
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(file.name))
    problems.push({
      file: file.rel,
      field: "",
      message: `stack directory name "${file.name}" must be a valid compose project name (lowercase letters, digits, "-", "_")`,
    });
  if (!isRecord(doc.value))
    return err([...problems, { file: file.rel, field: "", message: "a compose file must be a mapping with services" }]);
  const compose = composeFileSchema.parse(doc.value);
  const extension = stackExtensionSchema.safeParse(compose["x-berth"] ?? {});
  if (!extension.success) problems.push(...issuesToProblems(extension.error.issues, file.rel, doc, ["x-berth"]));
  if (Object.keys(compose.services).length === 0)
    problems.push({ file: file.rel, line: doc.lineOf(["services"]), field: "services", message: "a stack needs at least one service" });
  const services = new Map<string, RawService>();
  for (const [name, value] of Object.entries(compose.services)) {
    const body = writtenServiceSchema.safeParse(value);
    const ext = serviceExtensionSchema.safeParse((body.success ? body.data["x-berth"] : undefined) ?? {});
    if (!ext.success) problems.push(...issuesToProblems(ext.error.issues, file.rel, doc, ["services", name, "x-berth"]));
    else services.set(name, { body: body.success ? body.data : undefined, extension: ext.data });
  }
  if (!extension.success || problems.length > 0) return err(problems);
  return ok({ ...file, doc, body: doc.value, extension: extension.data, services });
}
