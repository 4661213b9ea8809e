// Normalises a stack's compose file with `docker compose config --format json`, cached by
// the file's content so an unchanged stack costs nothing on the next pass.
import { createHash } from "node:crypto";
import { CommandError } from "../platform/run-command.ts";
import type { ComposeCli } from "../platform/compose-cli.ts";

export type ComposeNormalizer = {
  normalize(input: { project: string; directory: string; file: string; text: string }): Promise<{ ok: true; model: Record<string, unknown> } | { ok: false; message: string }>;
};

export function createComposeNormalizer(compose: ComposeCli, maxEntries = 500): ComposeNormalizer {
  const cache = new Map<string, Record<string, unknown>>();
  return {
    async normalize({ project, directory, file, text }) {
      const key = createHash("sha256").update(project).update("\0").update(directory).update("\0").update(text).digest("hex");
      const hit = cache.get(key);
      if (hit) return { ok: true, model: hit };
      try {
        // An empty environment except PATH/HOME: the desired state must not depend on the agent's shell.
        const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", DOCKER_HOST: process.env["DOCKER_HOST"] ?? "" };
        const model = await compose.config({ name: project, directory, files: [file] }, { env });
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value ?? "");
        cache.set(key, model);
        return { ok: true, model };
      } catch (error) {
        const message = error instanceof CommandError ? error.result.stderr.trim() || error.message : error instanceof Error ? error.message : String(error);
        return { ok: false, message: message.replace(/\s+/g, " ").slice(0, 500) };
      }
    },
  };
}
