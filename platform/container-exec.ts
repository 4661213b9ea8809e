// Runs a command inside a running container through the Engine API (exec create, start, inspect):
// exit code and the combined stdout/stderr, bounded, with a deadline.
import { PassThrough } from "node:stream";
import type Docker from "dockerode";

export type ExecResult = { exitCode: number; output: string };

/** The last this many characters of the output are kept; a verify step needs the end of it, not megabytes. */
const MAX_OUTPUT_CHARS = 16_384;

export async function execInContainer(
  docker: Docker,
  id: string,
  cmd: readonly string[],
  options: { timeoutMs: number },
): Promise<ExecResult> {
  const exec = await docker.getContainer(id).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: false });
  let output = "";
  const sink = new PassThrough();
  sink.setEncoding("utf8");
  sink.on("data", (chunk: string) => {
    output = (output + chunk).slice(-MAX_OUTPUT_CHARS);
  });
  docker.modem.demuxStream(stream, sink, sink);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`${cmd.join(" ")}: no exit within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", (error) => reject(error));
    });
  } finally {
    clearTimeout(timer);
  }
  // The stream ends when the process does; the engine may record the exit code a moment later.
  for (let attempt = 0; ; attempt += 1) {
    const info = await exec.inspect();
    if (!info.Running && typeof info.ExitCode === "number") return { exitCode: info.ExitCode, output };
    if (attempt >= 20) throw new Error(`${cmd.join(" ")}: the engine reported no exit code`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
