// Generates a large synthetic desired state (N services in stacks of 10) for benchmarks.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function generateFleet(options: { services: number; images: number; perStack?: number; prefix?: string }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), options.prefix ?? "berth-bench-fleet-"));
  const perStack = options.perStack ?? 10;
  await mkdir(join(root, "profiles"), { recursive: true });
  await writeFile(join(root, "berth.yaml"), "version: 1\nmachines:\n  pc2: { profile: pc2 }\n");
  await writeFile(join(root, "profiles", "pc2.json"), JSON.stringify({ OMP_NUM_THREADS: "4", CUDA_ARCH: "8.6" }));
  for (let i = 0; i < options.images; i += 1) {
    const dir = join(root, "images", `img-${i}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "image.yaml"), "context: .\n");
    await writeFile(
      join(dir, "Dockerfile"),
      i === 0
        ? "FROM berth-test/busybox:1\nRUN echo 0 > /v\n"
        : `FROM img-${Math.floor((i - 1) / 3)}\nARG OMP_NUM_THREADS\nRUN echo ${i} > /v\n`,
    );
  }
  const stacks = Math.ceil(options.services / perStack);
  for (let s = 0; s < stacks; s += 1) {
    const dir = join(root, "stacks", `stack-${s}`);
    await mkdir(dir, { recursive: true });
    const lines = ["services:"];
    for (let k = 0; k < perStack && s * perStack + k < options.services; k += 1) {
      lines.push(
        `  svc-${k}:`,
        "    image: berth-test/busybox:1",
        '    command: ["httpd", "-f", "-p", "8080"]',
        "    environment: { ROLE: worker }",
        "    x-berth: { selfHeal: true }",
      );
    }
    await writeFile(join(dir, "compose.yaml"), `${lines.join("\n")}\n`);
  }
  return root;
}
