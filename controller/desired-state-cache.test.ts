import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LoadResult } from "../desired-state/load-desired-state.ts";
import { desiredStateFixture } from "../metrics/fixtures/desired-state.ts";
import { cachedDesiredState } from "./desired-state-cache.ts";

describe("cachedDesiredState", () => {
  let dir: string;
  let root: string;
  let cache: string;
  let loads: number;
  const valid = (): Promise<LoadResult> => {
    loads += 1;
    return Promise.resolve({ ok: true, state: desiredStateFixture({ revision: `r${loads}`, machine: "pc2", services: [], images: [] }) });
  };
  const key = { code: "bundle-1", environment: "{}" };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "perf-state-cache-"));
    root = join(dir, "desired");
    cache = join(dir, "cache");
    await mkdir(join(root, "stacks", "web"), { recursive: true });
    await writeFile(join(root, "berth.yaml"), "version: 1\n");
    await writeFile(join(root, "stacks", "web", "compose.yaml"), "services: {}\n");
    loads = 0;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads an unchanged tree once and gives the same state to the next process", async () => {
    const first = await cachedDesiredState(root, cache, key, valid);
    const second = await cachedDesiredState(root, cache, key, valid);

    expect(loads).toBe(1);
    expect(second).toEqual(first);
  });

  it("loads again when a file changes, appears or goes, and when the code or the environment differs", async () => {
    await cachedDesiredState(root, cache, key, valid);

    await writeFile(join(root, "stacks", "web", "compose.yaml"), "services: { a: {} }\n");
    await cachedDesiredState(root, cache, key, valid);
    await writeFile(join(root, "stacks", "web", ".env"), "A=1\n");
    await cachedDesiredState(root, cache, key, valid);
    await rm(join(root, "stacks", "web", ".env"));
    await cachedDesiredState(root, cache, key, valid);
    await cachedDesiredState(root, cache, { ...key, code: "bundle-2" }, valid);
    await cachedDesiredState(root, cache, { ...key, environment: '{"DOCKER_HOST":"tcp://127.0.0.1:2376"}' }, valid);

    expect(loads).toBe(6);
  });

  it("loads again when the checkout moves to another commit with the same files", async () => {
    await mkdir(join(root, ".git", "refs", "heads"), { recursive: true });
    await writeFile(join(root, ".git", "HEAD"), "ref: refs/heads/main\n");
    await writeFile(join(root, ".git", "refs", "heads", "main"), `${"a".repeat(40)}\n`);
    await cachedDesiredState(root, cache, key, valid);
    await cachedDesiredState(root, cache, key, valid);

    await writeFile(join(root, ".git", "refs", "heads", "main"), `${"b".repeat(40)}\n`);
    await cachedDesiredState(root, cache, key, valid);

    expect(loads).toBe(2);
  });

  it("never keeps an invalid load, and keeps nothing without a code identity (sources under tsx)", async () => {
    const invalid = (): Promise<LoadResult> => {
      loads += 1;
      return Promise.resolve({ ok: false, problems: [{ file: "berth.yaml", field: "version", message: "required" }] });
    };

    await cachedDesiredState(root, cache, key, invalid);
    await cachedDesiredState(root, cache, key, invalid);
    await cachedDesiredState(root, cache, { ...key, code: undefined }, valid);
    await cachedDesiredState(root, cache, { ...key, code: undefined }, valid);

    expect(loads).toBe(4);
  });
});
