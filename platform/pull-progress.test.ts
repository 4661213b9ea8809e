import { describe, expect, it } from "vitest";
import { createPullProgress, PullError } from "./pull-progress.ts";
import type { PullLine, PullProgress } from "./pull-progress.ts";

function fold(lines: PullLine[]): { seen: PullProgress[]; last: PullProgress } {
  const progress = createPullProgress();
  const seen: PullProgress[] = [];
  for (const line of lines) {
    const next = progress.add(line);
    if (next) seen.push(next);
  }
  return { seen, last: progress.progress };
}

describe("pull progress", () => {
  it("sums the bytes of every layer being downloaded, with the total once every layer has told its size", () => {
    const { seen, last } = fold([
      { status: "Pulling from fleet/app", id: "1" },
      { status: "Pulling fs layer", id: "a" },
      { status: "Pulling fs layer", id: "b" },
      { status: "Downloading", id: "a", progressDetail: { current: 512, total: 2048 } },
      { status: "Downloading", id: "b", progressDetail: { current: 100, total: 1000 } },
      { status: "Downloading", id: "a", progressDetail: { current: 1536, total: 2048 } },
      { status: "Download complete", id: "a" },
      { status: "Extracting", id: "a", progressDetail: { current: 4096, total: 4096 } },
      { status: "Pull complete", id: "a" },
      { status: "Download complete", id: "b" },
      { status: "Pull complete", id: "b" },
      { status: "Digest: sha256:0123" },
      { status: "Status: Downloaded newer image for 127.0.0.1:5000/fleet/app:1" },
    ]);

    expect(seen).toEqual([
      { current: 512 },
      { current: 612, total: 3048 },
      { current: 1636, total: 3048 },
      { current: 2148, total: 3048 },
      { current: 3048, total: 3048 },
    ]);
    expect(last).toEqual({ current: 3048, total: 3048 });
  });

  it("leaves out layers the host already has", () => {
    const { last } = fold([
      { status: "Pulling fs layer", id: "a" },
      { status: "Already exists", id: "b" },
      { status: "Downloading", id: "a", progressDetail: { current: 10, total: 40 } },
    ]);

    expect(last).toEqual({ current: 10, total: 40 });
  });

  it("fails on an error line with the engine's message", () => {
    const progress = createPullProgress();
    progress.add({ status: "Downloading", id: "a", progressDetail: { current: 10, total: 40 } });

    const errorLine = () =>
      progress.add({
        errorDetail: { message: "filesystem layer verification failed for digest sha256:abc" },
        error: "filesystem layer verification failed for digest sha256:abc",
      });

    expect(errorLine).toThrow(PullError);
    expect(errorLine).toThrow("filesystem layer verification failed for digest sha256:abc");
    expect(() => progress.add({ error: "manifest unknown" })).toThrow("manifest unknown");
  });
});
