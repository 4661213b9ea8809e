// The nvidia-smi reader against stand-in executables: real fixture output, a missing binary, a hang.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNvidiaSmiReader } from "./nvidia-smi-reader.ts";

const fixtures = fileURLToPath(new URL("../../test/fixtures/nvidia-smi/", import.meta.url));
let dir = "";

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-t-smi-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("createNvidiaSmiReader", () => {
  it("reads GPUs and processes and maps each process's cgroup to its container", async () => {
    const id = "c".repeat(64);
    const command = await script(
      "smi-busy",
      `case "$1" in --query-gpu=*) cut -d, -f1-7 "${fixtures}query-gpu-busy.csv" ;; --query-compute-apps=*) cat ` +
        `"${fixtures}query-apps-busy.csv" ;; esac`,
    );
    const reader = createNvidiaSmiReader({ command, readCgroup: async (pid) => (pid === 425 ? `0::/docker/${id}\n` : undefined) });

    const snapshot = await reader.read();

    expect(snapshot?.gpus.map((g) => [g.index, g.memoryUsedBytes])).toEqual([[0, 7053 * 1024 * 1024]]);
    expect(snapshot?.processes.map((p) => p.pid)).toEqual([425]);
    expect(snapshot?.containerIdByPid.get(425)).toBe(id);
  });

  it("returns undefined once and quietly when nvidia-smi is not installed", async () => {
    const problems: string[] = [];
    const reader = createNvidiaSmiReader({ command: join(dir, "no-such-nvidia-smi"), onProblem: (p) => problems.push(p) });

    const first = await reader.read();
    const second = await reader.read();

    expect(first).toBeUndefined();
    expect(second).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("not found");
  });

  it("gives up on a hanging nvidia-smi after its timeout", async () => {
    const command = await script("smi-hang", "sleep 3");
    const problems: string[] = [];
    const reader = createNvidiaSmiReader({ command, timeoutMs: 200, onProblem: (p) => problems.push(p) });
    const start = performance.now();

    const snapshot = await reader.read();

    expect(snapshot).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(2000);
    expect(problems[0]).toContain("timed out");
  });
});
