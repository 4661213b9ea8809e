// Test helper that owns the local offline base image berth-test/busybox:1 (same recipe as scripts/test-env.sh).
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export const BUSYBOX_IMAGE = "berth-test/busybox:1";

const BUSYBOX_BINARY = "/bin/busybox";

const DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox","--install","-s","/bin"]
COPY passwd group /etc/
RUN mkdir -p /tmp /root /home/app && chmod 1777 /tmp && chown 10001:10001 /home/app
LABEL io.berth.test=true
CMD ["/bin/sh"]
`;

const PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/home/app:/bin/sh\n";
const GROUP = "root:x:0:\napp:x:10001:\n";

async function imageExists(ref: string): Promise<boolean> {
  try {
    await execFileP("docker", ["image", "inspect", "--format", "{{.Id}}", ref], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

async function busyboxStaticInstalled(): Promise<boolean> {
  try {
    const { stdout } = await execFileP("dpkg-query", ["-W", "-f=${Status}", "busybox-static"], { timeout: 10_000 });
    return stdout.includes("install ok installed") && existsSync(BUSYBOX_BINARY);
  } catch {
    return false;
  }
}

function dockerBuild(context: string, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn("docker", ["build", "--progress=plain", "-t", tag, context], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-8_000);
    };
    proc.stdout.on("data", keep);
    proc.stderr.on("data", keep);
    proc.once("error", (err) => reject(new Error(`could not run docker build for ${tag}: ${err.message}`)));
    proc.once("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`docker build of ${tag} failed (exit ${code ?? "signal"}):\n${output}`));
    });
  });
}

/** Returns "berth-test/busybox:1", building it from Debian's busybox-static when the engine does not have it yet. */
export async function ensureBusyboxImage(): Promise<string> {
  if (await imageExists(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  if (!(await busyboxStaticInstalled())) {
    throw new Error(`${BUSYBOX_IMAGE} is missing and busybox-static is not installed (${BUSYBOX_BINARY}); run scripts/test-env.sh as root`);
  }
  const context = await mkdtemp(join(tmpdir(), "berth-busybox-"));
  try {
    await copyFile(BUSYBOX_BINARY, join(context, "busybox"));
    await writeFile(join(context, "passwd"), PASSWD);
    await writeFile(join(context, "group"), GROUP);
    await writeFile(join(context, "Dockerfile"), DOCKERFILE);
    await dockerBuild(context, BUSYBOX_IMAGE);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  if (!(await imageExists(BUSYBOX_IMAGE))) throw new Error(`docker build reported success but ${BUSYBOX_IMAGE} is not in the engine`);
  return BUSYBOX_IMAGE;
}
