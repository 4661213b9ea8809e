import { describe, expect, it } from "vitest";
import { imageResource, serviceResource } from "../status/progress-events.ts";
import type { ProgressEvent } from "../status/progress-events.ts";
import { applyProgress, emptyProgress, renderLive, summaryLine } from "./progress-view.ts";
import type { ProgressModel } from "./progress-view.ts";

function fold(events: Array<[number, ProgressEvent]>): ProgressModel {
  return events.reduce((model, [at, event]) => applyProgress(model, event, at), emptyProgress);
}

const base = imageResource("base");
const api = serviceResource("shop", "api");

describe("progress view", () => {
  it("shows a build's steps done of total, the cached ones and the elapsed time", () => {
    const model = fold([
      [1_000, { type: "phase", resource: base, phase: "building" }],
      [2_000, { type: "steps", resource: base, done: 3, total: 7, cached: 2 }],
    ]);
    expect(renderLive(model, 13_000)[0]).toMatch(/^. image base {2}building {2}step 3\/7 \(2 cached\) {2}12s$/);
  });

  it("shows the time left while a service waits for its health check", () => {
    const model = fold([
      [0, { type: "phase", resource: api, phase: "starting" }],
      [5_000, { type: "phase", resource: api, phase: "waiting for health", until: 65_000 }],
    ]);
    expect(renderLive(model, 20_000)[0]).toContain("service shop/api  waiting for health  45s left");
  });

  it("shows pulled bytes against the total", () => {
    const model = fold([
      [0, { type: "phase", resource: api, phase: "pulling" }],
      [1_000, { type: "bytes", resource: api, current: 12_500_000, total: 50_000_000 }],
    ]);
    expect(renderLive(model, 90_000)[0]).toContain("pulling  12.5 MB / 50 MB  1m30s");
  });

  it("collapses a finished resource to one summary line and drops it from the live lines", () => {
    const model = fold([
      [0, { type: "phase", resource: base, phase: "building" }],
      [1_000, { type: "steps", resource: base, done: 4, total: 4, cached: 1 }],
      [
        42_000,
        {
          type: "done",
          resource: base,
          ok: true,
          action: "build",
          reason: "Built",
          message: "built berth/base:abc",
          warnings: ["budget: size 90.0 MiB > budget 80 MiB"],
          facts: { seconds: 41.96, cacheHitRatio: 0.25, sizeBytes: 94_400_000 },
        },
      ],
      [42_000, { type: "phase", resource: api, phase: "starting" }],
    ]);
    expect(renderLive(model, 43_000)).toHaveLength(1);
    expect(summaryLine(model.entries[0]!)).toBe(
      "✓ image base  build Built (42.0 s, 4/4 steps, 1 cached, 94.4 MB)  ⚠ budget: size 90.0 MiB > budget 80 MiB",
    );
  });

  it("states what failed on the summary line of a failure, first line of the message only", () => {
    const model = fold([
      [0, { type: "phase", resource: api, phase: "starting" }],
      [
        30_000,
        {
          type: "done",
          resource: api,
          ok: false,
          action: "update",
          reason: "RolledBack",
          message: "revision abc failed: Unhealthy\ndetails",
        },
      ],
    ]);
    expect(summaryLine(model.entries[0]!)).toBe("✗ service shop/api  update RolledBack (30.0 s): revision abc failed: Unhealthy");
  });

  it("gives an unchanged resource, which reported only its result, a line without timings", () => {
    const model = fold([
      [5, { type: "done", resource: api, ok: true, action: "unchanged", reason: "Healthy", message: "shop-api-1 is running and healthy" }],
    ]);
    expect(renderLive(model, 10)).toEqual([]);
    expect(summaryLine(model.entries[0]!)).toBe("✓ service shop/api  unchanged Healthy");
  });

  it("starts a fresh entry when a finished resource reports again", () => {
    const model = fold([
      [0, { type: "done", resource: api, ok: false, action: "create", reason: "Unhealthy", message: "x" }],
      [1, { type: "phase", resource: api, phase: "restoring" }],
    ]);
    expect(model.entries).toHaveLength(2);
    expect(renderLive(model, 2)[0]).toContain("restoring");
  });

  it("cuts live lines to the terminal width", () => {
    const model = fold([[0, { type: "phase", resource: imageResource("a-very-long-image-name-that-goes-on"), phase: "building" }]]);
    const [line] = renderLive(model, 0, 30);
    expect(line).toHaveLength(30);
    expect(line?.endsWith("…")).toBe(true);
  });
});
