// A private copy of examples/fleet for one test: its stacks renamed under the test's prefix (own
// compose projects), its loopback host ports moved to free ones, optionally without the registry,
// so tests never collide with the example agent (README command 1) or with each other.
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "../../platform/run-command.ts";
import { freeLoopbackPort } from "./local-registry.ts";

export const EXAMPLE_FLEET = fileURLToPath(new URL("../../examples/fleet/", import.meta.url));

export type ExampleCopy = {
  root: string;
  /** The copy's stack (compose project) name for an example stack name. */
  stack(name: string): string;
  /** Every stack of the copy (compose projects this test owns). */
  stacks: string[];
  /** `docker compose down` of every stack, then the files. */
  cleanup(): Promise<void>;
};

export async function copyExampleFleet(prefix: string, options: { registry?: boolean; parent?: string } = {}): Promise<ExampleCopy> {
  const root = await mkdtemp(join(options.parent ?? tmpdir(), `${prefix}-fleet-`));
  await cp(EXAMPLE_FLEET, root, { recursive: true });
  if (options.registry === false) {
    const berthYaml = join(root, "berth.yaml");
    await writeFile(berthYaml, (await readFile(berthYaml, "utf8")).replace(/^registry:.*$/m, ""));
  }
  const names = await readdir(join(root, "stacks"));
  const renamed = new Map(names.map((name) => [name, `${prefix}-${name}`]));
  for (const [name, copy] of renamed) {
    await rename(join(root, "stacks", name), join(root, "stacks", copy));
    const composeFile = join(root, "stacks", copy, "compose.yaml");
    let text = await readFile(composeFile, "utf8");
    for (const match of text.matchAll(/"127\.0\.0\.1:(\d+):(\d+)"/g))
      text = text.replace(match[0], `"127.0.0.1:${await freeLoopbackPort()}:${match[2]}"`);
    await writeFile(composeFile, text);
  }
  const stacks = [...renamed.values()];
  return {
    root,
    stacks,
    stack(name) {
      const copy = renamed.get(name);
      if (!copy) throw new Error(`examples/fleet has no stack ${name}`);
      return copy;
    },
    async cleanup() {
      for (const stack of stacks)
        await runCommand("docker", ["compose", "-p", stack, "down", "--remove-orphans", "-t", "1"], {
          allowFailure: true,
          timeoutMs: 120_000,
        });
      await removeRollbackTags(stacks);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Removes the rollback tags berth kept for these stacks' services (after their containers are gone). */
export async function removeRollbackTags(stacks: readonly string[]): Promise<void> {
  const refs = (
    await runCommand("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "berth-rollback/*"], {
      allowFailure: true,
      timeoutMs: 60_000,
    })
  ).stdout.split("\n");
  const mine = refs.filter((ref) => stacks.some((stack) => ref.startsWith(`berth-rollback/${stack}-`)));
  if (mine.length > 0) await runCommand("docker", ["image", "rm", ...mine], { allowFailure: true, timeoutMs: 120_000 });
}
