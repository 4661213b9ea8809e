// The bounds on one desired state: entries per folder and bytes read, each refused with a clear problem.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDesiredState, MAX_ENTRIES_PER_FOLDER, MAX_TOTAL_BYTES } from "./load-desired-state.ts";

// Writes 65 MiB and 1001 folders: slow on a loaded disk, so more than the default 5 s.
describe("desired-state limits", { timeout: 60_000 }, () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "harden-limits-"));
    await mkdir(join(root, "profiles"));
    await writeFile(join(root, "berth.yaml"), "version: 1\nmachines:\n  pc2: { profile: pc2 }\n");
    await writeFile(join(root, "profiles/pc2.json"), "{}");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("refuses more stacks than the limit before reading any of them", async () => {
    await Promise.all(
      Array.from({ length: MAX_ENTRIES_PER_FOLDER + 1 }, (_, i) => mkdir(join(root, "stacks", `s${i}`), { recursive: true })),
    );
    const result = await loadDesiredState(root);
    expect(result).toMatchObject({
      ok: false,
      problems: [
        {
          file: "stacks",
          field: "",
          message: `has ${MAX_ENTRIES_PER_FOLDER + 1} entries, more than the limit of ${MAX_ENTRIES_PER_FOLDER}`,
        },
      ],
    });
  });

  it("refuses a desired state whose files add up to more than the byte limit", async () => {
    // Files just under the per-file limit of 1 MiB, enough of them to pass the total.
    const filler = `services:\n  web:\n    image: x\n${"#".repeat(1024 * 1024 - 64)}\n`;
    const count = Math.ceil(MAX_TOTAL_BYTES / Buffer.byteLength(filler)) + 1;
    for (let i = 0; i < count; i += 1) {
      await mkdir(join(root, "stacks", `s${i}`), { recursive: true });
      await writeFile(join(root, "stacks", `s${i}`, "compose.yaml"), filler);
    }
    const result = await loadDesiredState(root);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      expect.objectContaining({
        file: ".",
        message: expect.stringMatching(/^berth\.yaml, profiles, images and stacks add up to 6\d\.\d MiB, more than the 64 MiB limit$/),
      }),
    ]);
  });
});
