// Real engine: bad input and failing builds each get a clear condition, other images are still
// built, failures are not retried for the same inputs, and running containers are left alone.
import { processEngineSelection } from "../../platform/engine-selection.ts";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStatusStore } from "../../status/status-store.ts";
import type { StatusStore } from "../../status/status-store.ts";
import { getCondition } from "../../status/conditions.ts";
import { createBuildxBuilder, countingBuilder } from "../../reconcilers/images/image-builder.ts";
import type { ImagesResult } from "../../reconcilers/images/images-reconciler.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";
import { createWorld, imagesReconcilerFor } from "../support/images-world.ts";
import type { World } from "../support/images-world.ts";

const execFileP = promisify(execFile);

describe("images reconciler: bad input and faults (real engine)", () => {
  let world: World;
  let store: StatusStore;
  let outside: string;
  let containerId = "";
  const builder = countingBuilder(createBuildxBuilder({ env: processEngineSelection().childEnv }));
  let result: ImagesResult;

  function condition(short: string, type: "Ready" | "Stalled") {
    return getCondition(store.get({ kind: "image", machine: "m1", name: world.name(short) })?.conditions ?? [], type);
  }

  beforeAll(async () => {
    await ensureBusyboxImage();
    world = await createWorld({ machines: { m1: "p1" }, profiles: { p1: {} } });
    outside = await mkdtemp(join(tmpdir(), `${world.prefix}-outside-`));
    await writeFile(join(outside, "secret.txt"), "not yours\n");
    const { stdout } = await execFileP("docker", [
      "run",
      "-d",
      "--name",
      `${world.prefix}-running`,
      "--label",
      "io.berth.test=true",
      "berth-test/busybox:1",
      "sleep",
      "600",
    ]);
    containerId = stdout.trim();
    await world.write({ short: "good", dockerfile: "FROM berth-test/busybox:1\nRUN echo good > /good.txt\n" });
    await world.write({ short: "syntax", dockerfile: "FROM berth-test/busybox:1\nRUNN echo typo\n" });
    await world.write({ short: "failing", dockerfile: "FROM berth-test/busybox:1\nRUN echo about to fail && exit 3\n" });
    await world.write({ short: "child", dockerfile: `FROM ${world.name("failing")}\nRUN true\n` });
    await world.write({ short: "orphan", dockerfile: "FROM berth-test/busybox:1\nRUN true\n", extraParents: [world.name("nope")] });
    await world.write({ short: "escape", dockerfile: "FROM berth-test/busybox:1\nCOPY secret.txt /\n", context: outside });
    store = await openStatusStore(await world.newStateDir());
    const reconciler = imagesReconcilerFor(store, builder);

    result = await reconciler.reconcile(world.state(), "m1");
  });

  afterAll(async () => {
    if (containerId) await execFileP("docker", ["rm", "-f", containerId]).catch(() => undefined);
    await world?.cleanup();
    if (outside) await rm(outside, { recursive: true, force: true });
  });

  it("still builds the good image", () => {
    expect(result.outcomes.find((o) => o.name === world.name("good"))).toMatchObject({ ok: true, action: "build" });
    expect(condition("good", "Ready")).toMatchObject({ status: "True", reason: "Built" });
  });

  it("puts a Dockerfile syntax error into the condition message", () => {
    expect(condition("syntax", "Stalled")).toMatchObject({ status: "True", reason: "BuildFailed" });
    expect(condition("syntax", "Stalled")?.message).toMatch(/unknown instruction: RUNN/i);
  });

  it("puts a failing RUN's output and exit code into the condition message", () => {
    const message = condition("failing", "Stalled")?.message ?? "";
    expect(message).toContain("exit code: 3");
    expect(message).toContain("about to fail");
  });

  it("stalls the children of a failed image without calling BuildKit for them", () => {
    expect(condition("child", "Stalled")).toMatchObject({ status: "True", reason: "ParentFailed" });
    expect(builder.calls.map((c) => c.image)).not.toContain(world.name("child"));
  });

  it("names the chain of a missing parent", () => {
    expect(condition("orphan", "Stalled")).toMatchObject({ status: "True", reason: "MissingParent" });
    expect(condition("orphan", "Stalled")?.message).toContain(`${world.name("orphan")} → ${world.name("nope")}`);
  });

  it("refuses a context that escapes the desired-state root", () => {
    expect(condition("escape", "Stalled")).toMatchObject({ status: "True", reason: "ContextOutsideRoot" });
    expect(builder.calls.map((c) => c.image)).not.toContain(world.name("escape"));
  });

  it("leaves running containers alone", async () => {
    const { stdout } = await execFileP("docker", ["inspect", "--format", "{{.State.Running}} {{.Id}}", containerId]);
    expect(stdout.trim()).toBe(`true ${containerId}`);
  });

  it("does not retry failed builds for the same inputs on the next pass", async () => {
    builder.reset();
    const reconciler = imagesReconcilerFor(store, builder);

    const again = await reconciler.reconcile(world.state(), "m1");

    expect(builder.count()).toBe(0);
    expect(again.outcomes.find((o) => o.name === world.name("failing"))).toMatchObject({ ok: false, reason: "BuildFailed" });
    expect(again.outcomes.find((o) => o.name === world.name("good"))?.action).toBe("reuse");
  });
});
