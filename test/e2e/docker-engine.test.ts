// The Engine API adapter against the real engine: one batched look, inspect with health,
// tag/remove with 409 and 404, and filtered events.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import type { EngineEvent } from "../../platform/docker-engine.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";

const run = promisify(execFile);
const docker = async (...args: string[]) => (await run("docker", args)).stdout.trim();

describe("docker engine adapter (real engine)", () => {
  const prefix = `berth-t-engine-${randomBytes(3).toString("hex")}`;
  const engine = createDockerEngine();
  let image: string;

  beforeAll(async () => {
    image = await ensureBusyboxImage();
    await docker("tag", image, `${prefix}/img:one`);
    await docker(
      "run",
      "-d",
      "--name",
      `${prefix}-web`,
      "--label",
      "io.berth.managed=true",
      "--label",
      `io.berth.stack=${prefix}`,
      "--health-cmd",
      "echo probe-output; exit 0",
      "--health-interval",
      "1s",
      "--health-start-period",
      "0s",
      `${prefix}/img:one`,
      "sleep",
      "300",
    );
  });

  afterAll(async () => {
    await docker("rm", "-f", `${prefix}-web`, `${prefix}-plain`).catch(() => "");
    await docker("rmi", `${prefix}/img:one`, `${prefix}/img:two`).catch(() => "");
  });

  it("sees every container with its labels and health, and every image, in one look", async () => {
    let observed = await engine.observe();
    for (let i = 0; i < 40 && observed.containers.find((c) => c.name === `${prefix}-web`)?.health !== "healthy"; i += 1) {
      await new Promise((r) => setTimeout(r, 250));
      observed = await engine.observe();
    }
    const web = observed.containers.find((c) => c.name === `${prefix}-web`);
    expect(web).toMatchObject({ state: "running", health: "healthy", image: `${prefix}/img:one`, labels: { "io.berth.stack": prefix } });
    expect(observed.images.some((i) => i.repoTags.includes(`${prefix}/img:one`))).toBe(true);
  });

  it("inspects a container's health output and says undefined for a missing one", async () => {
    const details = await engine.inspectContainer(`${prefix}-web`);
    expect(details?.running).toBe(true);
    expect(details?.health?.lastOutput).toBe("probe-output");
    expect(await engine.inspectContainer(`${prefix}-nope`)).toBeUndefined();
  });

  it("tags an image, refuses to remove one in use (409) and reports a missing one", async () => {
    await engine.tagImage(`${prefix}/img:one`, `${prefix}/img:two`);
    expect((await engine.inspectImage(`${prefix}/img:two`))?.repoTags).toContain(`${prefix}/img:two`);
    expect(await engine.removeImage(`${prefix}/img:two`)).toBe("removed");
    const inUse = (await engine.inspectImage(`${prefix}/img:one`))?.id ?? "";
    expect(await engine.removeImage(inUse)).toBe("conflict");
    expect(await engine.removeImage(`${prefix}/img:gone`)).toBe("missing");
  });

  it("streams only the filtered events of berth's containers", async () => {
    const seen: EngineEvent[] = [];
    const abort = new AbortController();
    const streaming = engine.events({
      since: Math.floor(Date.now() / 1000),
      filters: { type: ["container"], event: ["die", "destroy"], label: ["io.berth.managed=true"] },
      signal: abort.signal,
      onEvent: (e) => seen.push(e),
    });
    await docker("run", "--name", `${prefix}-plain`, image, "true");
    await docker("rm", "-f", `${prefix}-plain`, `${prefix}-web`);
    for (let i = 0; i < 40 && seen.length < 2; i += 1) await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await streaming;
    expect(seen.map((e) => `${e.action} ${e.labels["name"]}`)).toEqual([`die ${prefix}-web`, `destroy ${prefix}-web`]);
  });
});
