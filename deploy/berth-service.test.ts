// The systemd unit as systemd itself reads it: `systemd-analyze verify` finds nothing (no unknown
// key, an executable ExecStart), and its sandbox keeps the exposure score low.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runCommand } from "../platform/run-command.ts";

const UNIT = new URL("./berth.service", import.meta.url).pathname;

describe("deploy/berth.service", () => {
  it("passes systemd-analyze verify without a single warning", async () => {
    const result = await runCommand("systemd-analyze", ["verify", UNIT], { allowFailure: true, timeoutMs: 60_000 });
    expect(result.stderr.trim()).toBe("");
    expect(result.exitCode).toBe(0);
  });

  it("keeps files private and the process sandboxed (systemd-analyze security ≤ 4.0)", async () => {
    const text = await readFile(UNIT, "utf8");
    for (const line of ["UMask=0077", "StateDirectoryMode=0700", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"])
      expect(text.split("\n")).toContain(line);
    const result = await runCommand("systemd-analyze", ["security", "--offline=yes", UNIT], { allowFailure: true, timeoutMs: 60_000 });
    const score = Number(/Overall exposure level for berth\.service: ([\d.]+)/.exec(result.stdout)?.[1]);
    expect(score).toBeLessThanOrEqual(4);
  });
});
