import { describe, expect, it } from "vitest";
import { CommandError, runCommand } from "./run-command.ts";

describe("runCommand", () => {
  it("returns output and streams lines", async () => {
    const lines: string[] = [];
    const result = await runCommand("sh", ["-c", "echo one; echo two"], { onStdoutLine: (l) => lines.push(l) });
    expect(result.stdout).toBe("one\ntwo\n");
    expect(lines).toEqual(["one", "two"]);
  });

  it("turns a non-zero exit into an error carrying the stderr tail", async () => {
    await expect(runCommand("sh", ["-c", "echo broken >&2; exit 3"])).rejects.toThrow(/exited 3: broken/);
  });

  it("reports the exit of a child that closes its input unread, without an uncaught EPIPE", async () => {
    const input = "x".repeat(4 * 1024 * 1024);
    for (let i = 0; i < 5; i++) {
      const result = await runCommand("sh", ["-c", "exec 0<&-; exit 4"], { input, allowFailure: true });
      expect(result.exitCode).toBe(4);
    }
  });

  it("gives up at the timeout even when a grandchild keeps the pipes open", async () => {
    const start = Date.now();
    const error = await runCommand("sh", ["-c", "sleep 5 & sleep 5"], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(Date.now() - start).toBeLessThan(2000);
  });
});
