// VRAM attribution on the real engine: a busybox container's host PID maps back to its id
// through /proc/<pid>/cgroup, and the nvidia-smi reader attributes fixture memory to it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attributeGpuMemory } from "../../metrics/gpu/attribute-gpu-memory.ts";
import { containerIdFromCgroup } from "../../metrics/gpu/container-id-from-cgroup.ts";
import { createNvidiaSmiReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { ensureBusyboxImage } from "../support/busybox-image.ts";

const execFileP = promisify(execFile);
const PREFIX = `berth-t-${randomBytes(4).toString("hex")}`;
const FIXTURES = fileURLToPath(new URL("../fixtures/nvidia-smi/", import.meta.url));

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("docker", args, { timeout: 60_000 });
  return stdout.trim();
}

let containerId = "";
let pid = 0;
let workDir = "";

beforeAll(async () => {
  const image = await ensureBusyboxImage();
  workDir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
  containerId = await docker(
    "run",
    "-d",
    "--name",
    `${PREFIX}-llm`,
    "--label",
    "io.berth.managed=true",
    "--label",
    `io.berth.stack=${PREFIX}`,
    "--label",
    "io.berth.service=llm",
    image,
    "sleep",
    "300",
  );
  pid = Number(await docker("inspect", "-f", "{{.State.Pid}}", containerId));
});

afterAll(async () => {
  await docker("rm", "-f", `${PREFIX}-llm`).catch(() => undefined);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("GPU process → container on this engine", () => {
  it("maps the container's host PID back to its id through /proc/<pid>/cgroup", async () => {
    const text = await readFile(`/proc/${pid}/cgroup`, "utf8");

    expect(containerIdFromCgroup(text)).toBe(containerId);
  });

  it("says undefined for this test process, which runs in no container of the engine", async () => {
    const text = await readFile("/proc/self/cgroup", "utf8");

    expect(containerIdFromCgroup(text)).toBeUndefined();
  });

  it("attributes the H100 fixture's 7044 MiB to the service when that PID is the container's", async () => {
    const command = join(workDir, "nvidia-smi");
    await writeFile(
      command,
      `#!/bin/sh\ncase "$1" in\n  --query-gpu=*) cut -d, -f1-7 "${FIXTURES}query-gpu-busy.csv" ;;\n  --query-compute-apps=*) sed ` +
        `"s/^425,/${pid},/" "${FIXTURES}query-apps-busy.csv" ;;\nesac\n`,
    );
    await chmod(command, 0o755);
    const reader = createNvidiaSmiReader({ command });

    const snapshot = await reader.read();
    const observed = await createDockerEngine().observe();
    const rows = attributeGpuMemory(
      snapshot?.processes ?? [],
      snapshot?.containerIdByPid ?? new Map(),
      observed.containers,
      snapshot?.gpus ?? [],
    );

    expect(snapshot?.containerIdByPid.get(pid)).toBe(containerId);
    expect(rows).toEqual([{ stack: PREFIX, service: "llm", gpu: "0", bytes: 7044 * 1024 * 1024 }]);
  });
});
