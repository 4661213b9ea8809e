import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { setCondition } from "./conditions.ts";
import type { SourceReason } from "./reasons.ts";
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
    await store.put({
      kind: "service",
      key: "service/web/api",
      conditions,
      lastAppliedRevision: "abc",
      updatedAt: new Date(0).toISOString(),
    });
    const reopened = await openStatusStore(dir);
    expect(reopened.get({ kind: "service", stack: "web", service: "api" })?.lastAppliedRevision).toBe("abc");
    expect((await readdir(join(dir, "status"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("skips a truncated status file and reports it", async () => {
    const dir = await tempDir();
    const store = await openStatusStore(dir);
    await store.put({ kind: "stack", key: "stack/web", conditions: [], updatedAt: "x" });
    await writeFile(join(dir, "status", `${encodeURIComponent("stack/web")}.json`), '{"key": "stack/w');
    const reopened = await openStatusStore(dir);
    expect(reopened.get({ kind: "stack", name: "web" })).toBeUndefined();
    expect(reopened.loadProblems).toHaveLength(1);
  });

  it("keeps abnormal conditions only while True and always a Ready condition", async () => {
    const store = await openStatusStore(await tempDir());
    const at = new Date(0);
    let conditions = setCondition<SourceReason>([], { type: "Stalled", status: "False", reason: "Valid", message: "" }, at);
    conditions = setCondition(conditions, { type: "Degraded", status: "False", reason: "Fine", message: "" }, at);
    conditions = setCondition(conditions, { type: "Reconciling", status: "True", reason: "Progressing", message: "applying r1" }, at);

    await store.put({ kind: "source", key: "source", conditions, updatedAt: at.toISOString() });

    expect(store.get({ kind: "source" })?.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "Unknown", "Pending"],
      ["Reconciling", "True", "Progressing"],
    ]);
  });

  it("loads a state dir written before records had a kind, and an image's failed build by its input hash", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "status"), { recursive: true });
    const ready = { type: "Ready", status: "False", reason: "BuildFailed", message: "exit 1", lastTransitionTime: "t" };
    const old = {
      key: "image/pc2/app",
      conditions: [ready, { type: "Degraded", status: "False", reason: "Fine", message: "", lastTransitionTime: "t" }],
      failed: { revision: "r1", specHash: "h1", reason: "BuildFailed", message: "exit 1", at: 1 },
      updatedAt: "t",
    };
    await writeFile(join(dir, "status", `${encodeURIComponent(old.key)}.json`), JSON.stringify(old));

    const store = await openStatusStore(dir);

    expect(store.loadProblems).toEqual([]);
    expect(store.get({ kind: "image", machine: "pc2", name: "app" })).toEqual({
      kind: "image",
      key: "image/pc2/app",
      conditions: [ready],
      failed: { revision: "r1", inputHash: "h1", reason: "BuildFailed", message: "exit 1", at: 1 },
      updatedAt: "t",
    });
  });

  it("refuses a record whose kind is not the one its key names", async () => {
    const store = await openStatusStore(await tempDir());

    await expect(store.put({ kind: "stack", key: "service/web/api", conditions: [], updatedAt: "t" })).rejects.toThrow(
      'status key "service/web/api" does not name a stack',
    );
    expect(store.all()).toEqual([]);
  });

  it("moves a condition's transition time only when its status changes", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "Progressing", message: "" }, new Date(1000));
    const same = setCondition(first, { type: "Ready", status: "False", reason: "StillProgressing", message: "" }, new Date(2000));
    const flipped = setCondition(same, { type: "Ready", status: "True", reason: "Healthy", message: "" }, new Date(3000));
    expect(same[0]?.lastTransitionTime).toBe(new Date(1000).toISOString());
    expect(flipped[0]?.lastTransitionTime).toBe(new Date(3000).toISOString());
  });
});
