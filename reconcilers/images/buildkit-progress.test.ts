import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createProgressReader } from "./buildkit-progress.ts";
import type { BuildStep } from "./buildkit-progress.ts";

function read(fixture: string, onStep?: (step: BuildStep) => void) {
  const reader = createProgressReader(onStep);
  for (const line of readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), "utf8").split("\n")) reader.line(line);
  return reader;
}

describe("buildx rawjson progress", () => {
  it("counts a fully cached rebuild as a cache-hit ratio of 1, ignoring internal and context vertexes", () => {
    const finished: string[] = [];
    const reader = read("rawjson-cached.txt", (step) => finished.push(step.name));
    expect(reader.cacheHitRatio()).toBe(1);
    expect(finished).toContain("[1/2] RUN echo child $FOO > /child.txt");
    expect(reader.errorLines()).toEqual([]);
  });

  it("reports the failing step, its output and buildx's error text", () => {
    const lines = read("rawjson-failed.txt").errorLines().join("\n");
    expect(lines).toContain("[2/2] RUN echo hello; exit 3: process");
    expect(lines).toContain("hello");
    expect(lines).toContain("ERROR: failed to solve");
    expect(lines).toContain(">>> RUN echo hello; exit 3");
  });

  it("has no ratio when no Dockerfile step ran", () => {
    const reader = createProgressReader();
    reader.line("{");
    reader.line('  "vertexes": [{ "digest": "sha256:1", "name": "[internal] load .dockerignore", "completed": "2026-01-01T00:00:00Z" }]');
    reader.line("}");
    expect(reader.cacheHitRatio()).toBeUndefined();
  });
});

describe("buildx rawjson step counts", () => {
  it("counts known, finished and cached Dockerfile steps as the build goes", () => {
    const reader = createProgressReader();
    const status = (vertexes: object[]): void => {
      reader.line("{");
      reader.line(`  "vertexes": ${JSON.stringify(vertexes)}`);
      reader.line("}");
    };
    status([
      { digest: "sha256:a", name: "[1/3] FROM docker.io/library/debian" },
      { digest: "sha256:b", name: "[2/3] RUN apt-get update" },
      { digest: "sha256:c", name: "[3/3] COPY . /app" },
      { digest: "sha256:i", name: "[internal] load .dockerignore", completed: "2026-01-01T00:00:00Z" },
    ]);
    expect(reader.counts()).toEqual({ done: 0, total: 2, cached: 0 });
    status([{ digest: "sha256:b", cached: true, completed: "2026-01-01T00:00:01Z" }]);
    expect(reader.counts()).toEqual({ done: 1, total: 2, cached: 1 });
    status([{ digest: "sha256:c", started: "2026-01-01T00:00:01Z", completed: "2026-01-01T00:00:02Z" }]);
    expect(reader.counts()).toEqual({ done: 2, total: 2, cached: 1 });
    expect(reader.cacheHitRatio()).toBe(0.5);
  });
});
