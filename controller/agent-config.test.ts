// The agent's flags: defaults and the refusals that keep its HTTP endpoint and git source safe.
import { describe, expect, it } from "vitest";
import { agentConfig, isLoopbackHost } from "./agent-config.ts";

function parse(flags: Record<string, string | boolean>, env: NodeJS.ProcessEnv = {}) {
  return agentConfig({ flags, positionals: [] }, env);
}

describe("agent configuration", () => {
  it("listens on loopback by default", () => {
    expect(parse({ repo: "https://example.com/fleet.git" })).toMatchObject({
      ok: true,
      config: { listen: "127.0.0.1:9464", listenInsecure: false, protectStatus: false },
    });
  });

  it("refuses a non-loopback --listen, pointing to a TLS proxy, unless --listen-insecure is given", () => {
    const refused = parse({ repo: "https://example.com/fleet.git", listen: "0.0.0.0:9464" });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.message).toContain(
      "--listen on a non-loopback address serves metrics, status and the API unencrypted to the network: keep 127.0.0.1 and put " +
        "a TLS proxy in front",
    );
    expect(parse({ repo: "https://example.com/fleet.git" }, { BERTH_LISTEN: "192.168.1.5:9464" }).ok).toBe(false);
    expect(parse({ repo: "https://example.com/fleet.git", listen: "0.0.0.0:9464", "listen-insecure": true })).toMatchObject({
      ok: true,
      config: { listen: "0.0.0.0:9464" },
    });
  });

  it("knows loopback names and addresses", () => {
    expect(["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "LOCALHOST"].every(isLoopbackHost)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "example.com", "127.0.0.1.evil.example", ""].some(isLoopbackHost)).toBe(false);
  });

  it("needs --verify-commits for --verify-range and a token file for --protect-status", () => {
    expect(parse({ repo: "https://example.com/fleet.git", "verify-range": true })).toMatchObject({
      ok: false,
      message: expect.stringContaining("--verify-range needs --verify-commits"),
    });
    expect(parse({ repo: "https://example.com/fleet.git", "protect-status": true })).toMatchObject({
      ok: false,
      message: expect.stringContaining("--protect-status needs --api-token-file"),
    });
    expect(parse({ "desired-state": "/srv/fleet", "no-rollback": true })).toMatchObject({
      ok: false,
      message: expect.stringContaining("--no-rollback works with --repo"),
    });
  });
});
