import { describe, expect, it } from "vitest";
import { familiarDigest, familiarTag, parseReference, referenceAllowed, repositoryOf } from "./image-reference.ts";

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

describe("repositoryOf and referenceAllowed", () => {
  it("reads a reference as Docker does before matching it against the allowlist", () => {
    expect(repositoryOf("nginx:1")).toBe("docker.io/library/nginx");
    expect(repositoryOf("127.0.0.1:5000/app@sha256:abc")).toBe("127.0.0.1:5000/app");
    // A dotted name without a slash is a Docker Hub repository, not a registry host.
    expect(repositoryOf("my.app:1")).toBe("docker.io/library/my.app");
    expect(referenceAllowed("my.app:1", ["docker.io"])).toBe(true);
  });

  it("matches allowlist entries on path boundaries, registry prefixes included", () => {
    expect(referenceAllowed("ghcr.io/acme/web:1", ["ghcr.io/acme"])).toBe(true);
    expect(referenceAllowed("ghcr.io/acmeco/web:1", ["ghcr.io/acme"])).toBe(false);
    expect(referenceAllowed("127.0.0.1:5000/acme", ["127.0.0.1:5000"], { prefix: true })).toBe(true);
    expect(referenceAllowed("acme", ["docker.io"], { prefix: true })).toBe(true);
    expect(referenceAllowed("quay.io/x", ["docker.io"], { prefix: true })).toBe(false);
  });
});
