import { describe, expect, it } from "vitest";
import { canonicalJson, specHash } from "./spec-hash.ts";

describe("spec hash", () => {
  it("keeps the hash of a compose service config berth has always written", () => {
    const config = {
      image: "berth/web:0123456789ab",
      pull_policy: "never",
      environment: { B: "2", A: "1" },
      labels: { "io.berth.managed": "true", "io.berth.stack": "web" },
      ports: [{ target: 80, published: "8080", protocol: "tcp" }],
      healthcheck: undefined,
    };
    expect(canonicalJson(config)).toBe(
      '{"environment":{"A":"1","B":"2"},"image":"berth/web:0123456789ab","labels":{"io.berth.managed":"true",' +
        '"io.berth.stack":"web"},"ports":[{"protocol":"tcp","published":"8080","target":80}],"pull_policy":"never"}',
    );
    expect(specHash(config)).toBe(specHash({ ...config, environment: { A: "1", B: "2" } }));
  });
});
