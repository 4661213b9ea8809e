import { describe, expect, it } from "vitest";
import { judgeHostKey, parseKnownHostsLines } from "./ssh-host-key.ts";

const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIGz6";
const OTHER = "AAAAC3NzaC1lZDI1NTE5AAAAIXq9";
const files = ["/home/u/.ssh/known_hosts"];

describe("the host key check of ssh:// engines", () => {
  it("reads ssh-keygen -F output, hashed names and markers included, skipping its comment lines", () => {
    const text = [
      "# Host [127.0.0.1]:2222 found: line 1",
      `|1|c2FsdA==|aGFzaA== ssh-ed25519 ${KEY}`,
      "# Host [127.0.0.1]:2222 found: line 3",
      `@revoked [127.0.0.1]:2222 ssh-ed25519 ${OTHER}`,
      "",
    ].join("\n");
    expect(parseKnownHostsLines(text)).toEqual([
      { keyType: "ssh-ed25519", key: KEY },
      { marker: "revoked", keyType: "ssh-ed25519", key: OTHER },
    ]);
  });

  it("accepts the key known_hosts lists for the host", () => {
    const entries = [{ keyType: "ssh-ed25519", key: KEY }];
    expect(judgeHostKey({ presented: KEY, entries, strict: "true", name: "h", files })).toBeUndefined();
  });

  it("refuses a key that differs from the listed one, naming the host and the file", () => {
    const entries = [{ keyType: "ssh-ed25519", key: KEY }];
    expect(judgeHostKey({ presented: OTHER, entries, strict: "ask", name: "[10.0.0.5]:2222", files })).toMatch(
      /host key of \[10\.0\.0\.5\]:2222 does not match the one in \/home\/u\/\.ssh\/known_hosts/,
    );
    expect(judgeHostKey({ presented: OTHER, entries, strict: "accept-new", name: "h", files })).toMatch(/does not match/);
  });

  it("refuses an unknown host unless StrictHostKeyChecking is accept-new or no, as ssh does", () => {
    expect(judgeHostKey({ presented: KEY, entries: [], strict: "ask", name: "build-host", files })).toMatch(
      /host key of build-host is not in \/home\/u\/\.ssh\/known_hosts/,
    );
    expect(judgeHostKey({ presented: KEY, entries: [], strict: "accept-new", name: "build-host", files })).toBeUndefined();
    expect(
      judgeHostKey({ presented: OTHER, entries: [{ keyType: "ssh-ed25519", key: KEY }], strict: "false", name: "h", files }),
    ).toBeUndefined();
  });

  it("never accepts a revoked key, whatever StrictHostKeyChecking says", () => {
    const entries = [{ marker: "revoked" as const, keyType: "ssh-ed25519", key: KEY }];
    expect(judgeHostKey({ presented: KEY, entries, strict: "false", name: "h", files })).toMatch(/@revoked/);
  });
});
