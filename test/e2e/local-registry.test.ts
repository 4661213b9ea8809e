// E2E test of the local registry helper: push to it, see the tag, lose it during an outage, get it back, refuse pushes read-only.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { startLocalRegistry } from "../support/local-registry.ts";
import type { LocalRegistry } from "../support/local-registry.ts";

const execFileP = promisify(execFile);

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("docker", args, { timeout: 120_000 });
  return stdout;
}

async function tagsOf(registry: LocalRegistry, repo: string): Promise<string[]> {
  const res = await fetch(`http://${registry.host}/v2/${repo}/tags/list`, { signal: AbortSignal.timeout(5_000) });
  if (res.status === 404) return [];
  expect(res.status).toBe(200);
  const body = (await res.json()) as { tags: string[] | null };
  return body.tags ?? [];
}

describe("local registry (docker-registry on 127.0.0.1)", () => {
  let registry: LocalRegistry;
  let base: string;
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const repo = "berth-test/busybox";
  const ownTags: string[] = [];

  function ref(tag: string): string {
    const full = `${registry.host}/${repo}:${tag}-${suffix}`;
    if (!ownTags.includes(full)) ownTags.push(full);
    return full;
  }

  beforeAll(async () => {
    base = await ensureBusyboxImage();
    registry = await startLocalRegistry();
  });

  afterAll(async () => {
    for (const tag of ownTags) {
      await execFileP("docker", ["rmi", tag], { timeout: 60_000 }).catch(() => undefined);
    }
    await registry?.destroy();
  });

  it("answers /v2/ on a loopback address", async () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${registry.host}/v2/`);
    expect(res.status).toBe(200);
  });

  it("accepts a push and lists the tag", async () => {
    const image = ref("one");
    await docker("tag", base, image);
    await docker("push", "--quiet", image);
    expect(await tagsOf(registry, repo)).toContain(`one-${suffix}`);
  });

  it("refuses pushes while stopped and serves the same content after start()", async () => {
    await registry.stop();
    const image = ref("outage");
    await docker("tag", base, image);
    await expect(docker("push", "--quiet", image)).rejects.toThrow();
    await registry.start();
    expect(await tagsOf(registry, repo)).toContain(`one-${suffix}`);
    await docker("push", "--quiet", image);
    expect(await tagsOf(registry, repo)).toContain(`outage-${suffix}`);
  });

  it("refuses pushes in read-only mode but still serves manifests", async () => {
    await registry.readOnly();
    const image = ref("readonly");
    await docker("tag", base, image);
    await expect(docker("push", "--quiet", image)).rejects.toThrow();
    const tags = await tagsOf(registry, repo);
    expect(tags).toContain(`one-${suffix}`);
    expect(tags).not.toContain(`readonly-${suffix}`);
    const manifest = await fetch(`http://${registry.host}/v2/${repo}/manifests/one-${suffix}`, {
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    expect(manifest.status).toBe(200);
    await registry.start();
  });
});
