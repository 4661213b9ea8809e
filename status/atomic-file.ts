// Atomic file writes: temp file in the same folder, fsync, rename (and, for records that must
// survive a power loss, such as swap intents, an fsync of the folder).
import { open, rename, mkdir, unlink } from "node:fs/promises";
import { dirname, join, basename } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * A reader sees the old or the new content, never a mix, whatever kills the process. `durable`
 * also fsyncs the folder so the rename itself survives a power loss (one more fsync: only for
 * records acted upon after a crash).
 */
export async function writeFileAtomic(path: string, data: string, options: { durable?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(data, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (!options.durable) return;
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
