import { describe, expect, it } from "vitest";
import { selectMachine } from "./select-machine.ts";

const berth = { machines: { mainpc: { profile: "mainpc", hostnames: ["MainPC", "workstation"] }, pc2: { profile: "pc2" } } };

describe("selectMachine", () => {
  it("prefers the flag over the environment and the hostname", () => {
    expect(selectMachine(berth, { flag: "pc2", env: "mainpc", hostname: "mainpc" })).toEqual({ ok: true, machine: "pc2", how: "flag" });
  });

  it("uses BERTH_MACHINE when no flag is given", () => {
    expect(selectMachine(berth, { env: "mainpc", hostname: "x" })).toEqual({ ok: true, machine: "mainpc", how: "env" });
  });

  it("takes the host policy's machine over a hostname match in berth.yaml", () => {
    expect(selectMachine(berth, { policy: "pc2", hostname: "mainpc" })).toEqual({ ok: true, machine: "pc2", how: "policy" });
  });

  it("matches the hostname case-insensitively", () => {
    expect(selectMachine(berth, { hostname: "mainpc" })).toEqual({ ok: true, machine: "mainpc", how: "hostname" });
  });

  it("explains how to choose when nothing matches", () => {
    const result = selectMachine(berth, { hostname: "laptop" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('hostname "laptop"');
  });

  it("refuses a machine that berth.yaml does not list", () => {
    const result = selectMachine(berth, { flag: "pc3", hostname: "x" });
    expect(result).toEqual({ ok: false, message: 'machine "pc3" is not in berth.yaml machines (known: mainpc, pc2)' });
  });
});
