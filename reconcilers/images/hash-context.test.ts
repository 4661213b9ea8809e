import { mkdtemp, mkdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileHashCache, hashContext, MAX_DOCKERIGNORE_BYTES } from "./hash-context.ts";

let dir: string;
const dockerfile = () => join(dir, "Dockerfile");

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-ctx-"));
  await writeFile(dockerfile(), "FROM scratch\n");
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "a.txt"), "a\n");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("hashContext", () => {
  it("changes when a visible file changes and not when an ignored one does", async () => {
    await writeFile(join(dir, ".dockerignore"), "*.log\n");
    const before = await hashContext(dir, dockerfile());
    await writeFile(join(dir, "debug.log"), "noise\n");
    expect((await hashContext(dir, dockerfile())).hash).toBe(before.hash);
    await writeFile(join(dir, "src", "a.txt"), "b\n");
    expect((await hashContext(dir, dockerfile())).hash).not.toBe(before.hash);
  });

  it("prefers <Dockerfile>.dockerignore over the context's .dockerignore", async () => {
    await writeFile(join(dir, "Dockerfile.dockerignore"), "src\n");
    const before = await hashContext(dir, dockerfile());
    await writeFile(join(dir, "src", "a.txt"), "changed\n");
    expect((await hashContext(dir, dockerfile())).hash).toBe(before.hash);
  });

  it("hashes a symlink by its target without following it", async () => {
    await symlink("/etc/hostname", join(dir, "link"));
    const first = await hashContext(dir, dockerfile());
    expect(first.files).toBe(2);
  });

  it("re-reads only files whose metadata changed", async () => {
    const cache = createFileHashCache();
    const first = await hashContext(dir, dockerfile(), cache);
    const second = await hashContext(dir, dockerfile(), cache);
    expect(first.hashedBytes).toBeGreaterThan(0);
    expect(second.hashedBytes).toBe(0);
    expect(second.hash).toBe(first.hash);
    await utimes(join(dir, "src", "a.txt"), new Date(), new Date(Date.now() + 5_000));
    expect((await hashContext(dir, dockerfile(), cache)).hashedBytes).toBe(2);
  });
});

describe("reading .dockerignore", () => {
  it("refuses a .dockerignore that is a symlink to /dev/zero instead of reading it without end", async () => {
    await symlink("/dev/zero", join(dir, ".dockerignore"));
    const before = process.memoryUsage().rss;
    await expect(hashContext(dir, dockerfile())).rejects.toThrow(`${join(dir, ".dockerignore")} is not a regular file`);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses a .dockerignore larger than the limit", async () => {
    await writeFile(join(dir, ".dockerignore"), `${"x".repeat(MAX_DOCKERIGNORE_BYTES)}\n`);
    await expect(hashContext(dir, dockerfile())).rejects.toThrow(/\.dockerignore is larger than the 256 KiB limit for a \.dockerignore/);
  });
});
