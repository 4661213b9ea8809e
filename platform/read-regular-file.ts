// Reads a small text file the desired state names, bounded: a regular file only (never a FIFO,
// device or directory, even through a symlink) and never more than `maxBytes`.
import { constants } from "node:fs";
import { open } from "node:fs/promises";

export type RegularFileRead = { ok: true; text: string } | { ok: false; reason: "missing" | "not-regular" | "too-large"; size?: number };

export async function readRegularFile(path: string, maxBytes: number): Promise<RegularFileRead> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it has no effect on regular files.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === "ENOENT" || code === "ENOTDIR" ? "missing" : "not-regular" };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { ok: false, reason: "not-regular" };
    if (info.size > maxBytes) return { ok: false, reason: "too-large", size: info.size };
    // Read at most maxBytes + 1, whatever the size said: the file may grow after fstat.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    if (length > maxBytes) return { ok: false, reason: "too-large", size: length };
    return { ok: true, text: buffer.subarray(0, length).toString("utf8") };
  } finally {
    await handle.close();
  }
}
