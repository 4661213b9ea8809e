import { describe, expect, it } from "vitest";
import { dockerfileFacts } from "./dockerfile-facts.ts";

describe("dockerfileFacts", () => {
  it("finds berth parents among FROM lines and ignores stage names", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "FROM --platform=linux/amd64 base-cpu-pydeps AS base",
      "ARG MACHINE=pc2",
      "FROM base AS builder",
      "RUN echo hi \\",
      "  && echo there",
      "FROM debian:bookworm-slim AS runtime",
      "ARG OMP_NUM_THREADS UVICORN_WORKERS=8",
      "COPY --from=builder /x /x",
    ].join("\n");
    const facts = dockerfileFacts(text, new Set(["base-cpu-pydeps", "base-python"]));
    expect(facts.fromRefs).toEqual(["base-cpu-pydeps", "debian:bookworm-slim"]);
    expect(facts.parents).toEqual(["base-cpu-pydeps"]);
    expect(facts.declaredArgs).toEqual(["MACHINE", "OMP_NUM_THREADS", "UVICORN_WORKERS"]);
  });

  it("treats a berth name used only as a stage alias as not a parent", () => {
    const facts = dockerfileFacts("FROM busybox AS base-python\nFROM base-python\n", new Set(["base-python"]));
    expect(facts.parents).toEqual([]);
  });

  it("reads the final stage's base and USER, inherited through earlier stages", () => {
    expect(dockerfileFacts("FROM busybox AS build\nUSER 1000\nFROM build\nRUN true\n", new Set()).final).toEqual({
      from: "busybox",
      user: "1000",
    });
    expect(dockerfileFacts("FROM busybox\nUSER app\nFROM base-python\n", new Set(["base-python"])).final).toEqual({ from: "base-python" });
    expect(dockerfileFacts("FROM busybox\nUSER app\nUSER root\n", new Set()).final).toEqual({ from: "busybox", user: "root" });
  });
});
