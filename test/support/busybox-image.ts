// Test helper for the offline base image berth-test/busybox:1: checks it exists and otherwise
// makes it with scripts/test-env.sh, the one recipe for it (busybox-static, FROM scratch).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export const BUSYBOX_IMAGE = "berth-test/busybox:1";

const TEST_ENV_SCRIPT = fileURLToPath(new URL("../../scripts/test-env.sh", import.meta.url));

async function imageExists(ref: string): Promise<boolean> {
  try {
    await execFileP("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** Returns the image reference once it exists; fails (never skips) when it cannot be made. */
export async function ensureBusyboxImage(): Promise<string> {
  if (await imageExists(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  try {
    await execFileP("bash", [TEST_ENV_SCRIPT], { timeout: 600_000 });
  } catch (error) {
    const detail = error instanceof Error && "stderr" in error ? String(error.stderr).trim() : String(error);
    throw new Error(`${BUSYBOX_IMAGE} is missing and scripts/test-env.sh could not make it: ${detail}`);
  }
  if (!(await imageExists(BUSYBOX_IMAGE))) throw new Error(`scripts/test-env.sh ran but ${BUSYBOX_IMAGE} is still missing`);
  return BUSYBOX_IMAGE;
}
