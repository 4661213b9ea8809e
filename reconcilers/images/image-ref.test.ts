import { describe, expect, it } from "vitest";
import { familiarDigest, familiarTag, parseReference } from "./image-ref.ts";

describe("parseReference", () => {
  it("reads Docker Hub short names as the engine lists them", () => {
    expect(parseReference("redis:7")).toEqual({ host: "docker.io", repository: "library/redis", tag: "7", familiar: "redis" });
    expect(parseReference("grafana/grafana")).toEqual({
      host: "docker.io",
      repository: "grafana/grafana",
      tag: "latest",
      familiar: "grafana/grafana",
    });
    expect(familiarTag(parseReference("docker.io/library/redis:7"))).toBe("redis:7");
  });

  it("keeps a registry host with a port and a digest", () => {
    const ref = parseReference("127.0.0.1:5000/team/cache@sha256:abc");
    expect(ref).toEqual({ host: "127.0.0.1:5000", repository: "team/cache", digest: "sha256:abc", familiar: "127.0.0.1:5000/team/cache" });
    expect(familiarDigest(ref, "sha256:def")).toBe("127.0.0.1:5000/team/cache@sha256:def");
    expect(parseReference("localhost/cache:1")).toMatchObject({ host: "localhost", repository: "cache", tag: "1" });
  });
});
