// Fixture tests of a service's effective config: exact tag, profile environment, labels, GPU, hash.
import { describe, expect, it } from "vitest";
import { DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import type { ServiceSpec } from "../../desired-state/desired-state.ts";
import { effectiveService } from "./effective-service.ts";

function service(extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: "web",
    stack: "shop",
    config: { build: { context: "/x" }, environment: { PORT: "8080", GPU_LAYERS: "99" }, labels: { team: "a" } },
    buildImage: "shop-web",
    rollout: DEFAULT_ROLLOUT,
    selfHeal: true,
    source: "build",
    dependsOn: [],
    hasFixedHostPort: false,
    ...extra,
  };
}

const options = {
  machine: "gpu-box",
  profile: { GPU_LAYERS: "20", MODEL: "small" },
  imageTags: { "shop-web": "berth/shop-web:abc123-gpu-box" },
};

describe("effectiveService", () => {
  it("runs the exact tag the images reconciler resolved, never building or pulling", () => {
    const result = effectiveService(service(), options);
    expect(result).toMatchObject({
      ok: true,
      image: "berth/shop-web:abc123-gpu-box",
      config: { image: "berth/shop-web:abc123-gpu-box", pull_policy: "never" },
    });
    expect(result.ok && "build" in result.config).toBe(false);
  });

  it("injects profile variables with the service's own values winning", () => {
    const result = effectiveService(service(), options);
    expect(result.ok && result.config["environment"]).toEqual({ MACHINE: "gpu-box", GPU_LAYERS: "99", MODEL: "small", PORT: "8080" });
  });

  it("labels the container as berth's, with a spec hash that follows the config", () => {
    const a = effectiveService(service(), options);
    const b = effectiveService(service(), { ...options, profile: { ...options.profile, MODEL: "large" } });
    if (!a.ok || !b.ok) throw new Error("expected ok");
    expect(a.config["labels"]).toMatchObject({
      team: "a",
      "io.berth.managed": "true",
      "io.berth.stack": "shop",
      "io.berth.service": "web",
      "io.berth.spec-hash": a.specHash,
    });
    expect(a.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.specHash).not.toBe(a.specHash);
    expect(effectiveService(service(), options)).toEqual(a);
  });

  it("reserves GPUs for services that declare GPU needs", () => {
    const result = effectiveService(service({ gpu: { count: 1, vramMiB: 4000 } }), options);
    expect(result.ok && result.config["deploy"]).toEqual({
      resources: { reservations: { devices: [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }] } },
    });
  });

  it("waits for an image the images reconciler has not resolved yet", () => {
    expect(effectiveService(service(), { ...options, imageTags: {} })).toMatchObject({ ok: false, reason: "ImageNotReady" });
  });
});
