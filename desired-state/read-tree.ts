// Phase 1 of loading a desired state: the files of the tree (berth.yaml, profiles/*.json,
// images/<name>/image.yaml, stacks/<name>/compose.yaml) as text, within the tree's bounds.
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Problem } from "./problem.ts";
import { collect, err, ok } from "./result.ts";
import type { Result } from "./result.ts";
import type { TreeReader } from "./tree-reader.ts";

/** Bounds on one desired state: entries per folder (profiles, images, stacks) and bytes berth reads. */
export const MAX_ENTRIES_PER_FOLDER = 1000;
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const TOP_LEVEL_FOLDERS = ["profiles", "images", "stacks"] as const;

const COMPOSE_FILE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

/** One file of the tree: its path relative to the root and its text. */
export type TreeFile = { rel: string; text: string };
/** A profile, an image or a stack: its name (file or folder) and its file. */
export type NamedFile = TreeFile & { name: string; dir: string };
export type StackFile = NamedFile & { composePath: string };

export type Tree = { root: string; berth: TreeFile; profiles: NamedFile[]; images: NamedFile[]; stacks: StackFile[] };

/**
 * Reads every file of the tree at `root` (a real path). Refused whole: symlinks among the
 * top-level entries (to /etc, or another tree), a folder with too many entries, more bytes than
 * the limit; otherwise every file that cannot be read is a problem.
 */
export async function readTree(root: string, reader: TreeReader): Promise<Result<Tree>> {
  const refused = [...(await symlinkedEntries(root)), ...(await oversizedFolders(root))];
  if (refused.length > 0) return err(refused);
  const [berth, profiles, images, stacks] = await Promise.all([
    readBerthFile(root, reader),
    readProfiles(root, reader),
    readFolders(root, "images", (dir) => readIn(reader, "images", dir, "image.yaml")),
    readFolders(root, "stacks", (dir) => readStack(reader, dir)),
  ]);
  const problems = [berth, profiles, images, stacks].flatMap((result) => (result.ok ? [] : result.error));
  const totalBytes = reader.files.reduce((sum, [, text]) => sum + Buffer.byteLength(text), 0);
  if (totalBytes > MAX_TOTAL_BYTES)
    problems.push({
      file: ".",
      field: "",
      message:
        `berth.yaml, profiles, images and stacks add up to ${(totalBytes / 1024 / 1024).toFixed(1)} MiB, ` +
        `more than the ${MAX_TOTAL_BYTES / 1024 / 1024} MiB limit`,
    });
  if (!berth.ok || !profiles.ok || !images.ok || !stacks.ok || problems.length > 0) return err(problems);
  return ok({ root, berth: berth.value, profiles: profiles.value, images: images.value, stacks: stacks.value });
}

/** berth.yaml (not part of the content revision). */
async function readBerthFile(root: string, reader: TreeReader): Promise<Result<TreeFile>> {
  const text = await reader.read(join(root, "berth.yaml"), "berth.yaml");
  return text.ok ? ok({ rel: "berth.yaml", text: text.value }) : text;
}

async function readProfiles(root: string, reader: TreeReader): Promise<Result<NamedFile[]>> {
  const dir = join(root, "profiles");
  const names = (await listDir(dir)).filter((entry) => entry.endsWith(".json"));
  const reads = await Promise.all(
    names.map(async (entry): Promise<Result<NamedFile>> => {
      const rel = `profiles/${entry}`;
      const text = await reader.read(join(dir, entry), rel);
      return text.ok ? ok({ name: basename(entry, ".json"), dir, rel, text: text.value }) : text;
    }),
  );
  return collect(reads);
}

/** Each sub-folder of `folder` (other entries are ignored), read by `read`. */
async function readFolders<T>(root: string, folder: string, read: (dir: string) => Promise<Result<T>>): Promise<Result<T[]>> {
  const dirs = (await listDir(join(root, folder))).map((name) => join(root, folder, name));
  const isDir = await Promise.all(dirs.map(isDirectory));
  return collect(await Promise.all(dirs.filter((_, index) => isDir[index]).map(read)));
}

async function readIn(reader: TreeReader, folder: string, dir: string, fileName: string): Promise<Result<NamedFile>> {
  const name = basename(dir);
  const rel = `${folder}/${name}/${fileName}`;
  const text = await reader.read(join(dir, fileName), rel);
  return text.ok ? ok({ name, dir, rel, text: text.value }) : text;
}

async function readStack(reader: TreeReader, dir: string): Promise<Result<StackFile>> {
  const fileName = await firstExisting(dir, COMPOSE_FILE_NAMES);
  if (!fileName)
    return err([
      { file: `stacks/${basename(dir)}`, field: "", message: `no compose file (expected one of ${COMPOSE_FILE_NAMES.join(", ")})` },
    ]);
  const read = await readIn(reader, "stacks", dir, fileName);
  return read.ok ? ok({ ...read.value, composePath: join(dir, fileName) }) : read;
}

/** berth.yaml, the three folders and their entries must not be symlinks. */
async function symlinkedEntries(root: string): Promise<Problem[]> {
  const paths = ["berth.yaml", ...TOP_LEVEL_FOLDERS];
  for (const folder of TOP_LEVEL_FOLDERS) {
    if (!(await isSymlink(join(root, folder)))) paths.push(...(await listDir(join(root, folder))).map((name) => `${folder}/${name}`));
  }
  const linked = await Promise.all(paths.map((path) => isSymlink(join(root, path))));
  return paths
    .filter((_, index) => linked[index])
    .map((file) => ({
      file,
      field: "",
      message:
        "is a symlink; berth.yaml, profiles, images and stacks and their entries must be real files and folders of the desired state",
    }));
}

async function oversizedFolders(root: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const folder of TOP_LEVEL_FOLDERS) {
    const count = (await listDir(join(root, folder))).length;
    if (count > MAX_ENTRIES_PER_FOLDER)
      problems.push({ file: folder, field: "", message: `has ${count} entries, more than the limit of ${MAX_ENTRIES_PER_FOLDER}` });
  }
  return problems;
}

/** The entries of `dir`, sorted; none when it cannot be read. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

async function isSymlink(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path)
    .then((s) => s.isDirectory())
    .catch(() => false);
}

async function firstExisting(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    if (
      await stat(join(dir, name))
        .then(() => true)
        .catch(() => false)
    )
      return name;
  }
  return undefined;
}
