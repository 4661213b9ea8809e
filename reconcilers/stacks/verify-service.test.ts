// x-berth.verify commands: argv of the string and list forms, and the bounded failure message.
import { describe, expect, it } from "vitest";
import { VERIFY_OUTPUT_CHARS, verifyArgv, verifyFailureMessage } from "./verify-service.ts";

describe("verifyArgv", () => {
  it("runs a string with /bin/sh -c and a list as it is", () => {
    expect(verifyArgv("test -f /ready && echo ok")).toEqual(["/bin/sh", "-c", "test -f /ready && echo ok"]);
    expect(verifyArgv(["python3", "-c", "import torch"])).toEqual(["python3", "-c", "import torch"]);
  });
});

describe("verifyFailureMessage", () => {
  it("names the command and its exit code and carries the output on one line", () => {
    expect(verifyFailureMessage("nvidia-smi -L", { exitCode: 127, output: "sh: nvidia-smi: not found\n" })).toBe(
      'verify "nvidia-smi -L" exited 127: sh: nvidia-smi: not found',
    );
  });

  it("keeps only the end of a long output", () => {
    const output = `${"x".repeat(5000)}\nTraceback: CUDA not available\n`;
    const message = verifyFailureMessage(["python3", "check.py"], { exitCode: 1, output });
    expect(message.startsWith('verify "python3 check.py" exited 1: …')).toBe(true);
    expect(message.endsWith("Traceback: CUDA not available")).toBe(true);
    expect(message.length).toBeLessThan(VERIFY_OUTPUT_CHARS + 60);
  });

  it("says why a command that did not run failed", () => {
    expect(verifyFailureMessage("sleep 999", { error: "sleep 999: no exit within 1000 ms" })).toBe(
      'verify "sleep 999" failed: sleep 999: no exit within 1000 ms',
    );
  });
});
