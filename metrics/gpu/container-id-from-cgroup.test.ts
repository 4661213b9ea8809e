// Container ids from /proc/<pid>/cgroup text: cgroup v1 (cgroupfs), v2 (systemd scope), none.
import { describe, expect, it } from "vitest";
import { nvidiaSmiFixture } from "../../test/support/nvidia-smi-fixtures.ts";
import { containerIdFromCgroup } from "./container-id-from-cgroup.ts";

const ID = "f49622dd17535afbd9e23b5cec9d08e5dd5a9ea4a6f32e1af732872e54f27db6";

describe("containerIdFromCgroup", () => {
  it("finds the id in cgroup v1 cgroupfs paths", () => {
    const text = `9:name=systemd:/docker/${ID}\n4:memory:/docker/${ID}\n0::/docker/${ID}\n`;

    expect(containerIdFromCgroup(text)).toBe(ID);
  });

  it("finds the id in a cgroup v2 systemd scope", () => {
    expect(containerIdFromCgroup(`0::/system.slice/docker-${ID}.scope\n`)).toBe(ID);
  });

  it("finds the id of a rootless engine's scope", () => {
    expect(containerIdFromCgroup(`0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-${ID}.scope\n`)).toBe(ID);
  });

  it("takes the innermost container of a nested engine", () => {
    const outer = "a".repeat(64);

    expect(containerIdFromCgroup(`0::/docker/${outer}/docker/${ID}\n`)).toBe(ID);
  });

  it("says undefined for the real GPU host's process outside any container", () => {
    const text = nvidiaSmiFixture("proc-cgroup.txt");
    const procLine = text.split("\n").find((line) => line.startsWith("0::")) ?? "";

    expect(procLine).toContain("/process_api/");
    expect(containerIdFromCgroup(procLine)).toBeUndefined();
  });

  it("says undefined for host processes", () => {
    expect(containerIdFromCgroup("0::/init.scope\n")).toBeUndefined();
    expect(containerIdFromCgroup("")).toBeUndefined();
  });
});
