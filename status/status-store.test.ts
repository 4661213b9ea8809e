import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { setCondition } from "./conditions.ts";
import { openStatusStore } from "./status-store.ts";

describe("status store", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "berth-store-"));
    dirs.push(dir);
    return dir;
  }

  it("keeps statuses across a restart and leaves no temp files behind", async () => {
    const dir = await tempDir();
    const store = await openStatusStore(dir);
    const conditions = setCondition([], { type: "Ready", status: "True", reason: "Healthy", message: "ok" }, new Date(0));
    await store.put({ key: "service/web/api", conditions, lastAppliedRevision: "abc", updatedAt: new Date(0).toISOString() });
    const reopened = await openStatusStore(dir);
    expect(reopened.get("service/web/api")?.lastAppliedRevision).toBe("abc");
    expect((await readdir(join(dir, "status"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("skips a truncated status file and reports it", async () => {
    const dir = await tempDir();
    const store = await openStatusStore(dir);
    await store.put({ key: "stack/web", conditions: [], updatedAt: "x" });
    await writeFile(join(dir, "status", `${encodeURIComponent("stack/web")}.json`), '{"key": "stack/w');
    const reopened = await openStatusStore(dir);
    expect(reopened.get("stack/web")).toBeUndefined();
    expect(reopened.loadProblems).toHaveLength(1);
  });

  it("moves a condition's transition time only when its status changes", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "Progressing", message: "" }, new Date(1000));
    const same = setCondition(first, { type: "Ready", status: "False", reason: "StillProgressing", message: "" }, new Date(2000));
    const flipped = setCondition(same, { type: "Ready", status: "True", reason: "Healthy", message: "" }, new Date(3000));
    expect(same[0]?.lastTransitionTime).toBe(new Date(1000).toISOString());
    expect(flipped[0]?.lastTransitionTime).toBe(new Date(3000).toISOString());
  });
});
