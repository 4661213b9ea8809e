// Pulls an image through the Engine API with the host's Docker credentials for its registry (read
// as the docker CLI reads them), reporting the bytes downloaded as they come.
import { credentialKey } from "../../platform/docker-credentials.ts";
import type { DockerCredentials } from "../../platform/docker-credentials.ts";
import type { DockerEngine, PullAuth } from "../../platform/docker-engine.ts";
import type { PullProgress } from "../../platform/pull-progress.ts";
import { parseReference } from "../../platform/image-reference.ts";

/** A pull's outcome: done, or why not in the engine's (or the credential helper's) words. */
export type PullOutcome = { ok: true } | { ok: false; message: string };

export async function pullImage(
  deps: { engine: Pick<DockerEngine, "pullImage">; credentials: DockerCredentials },
  ref: string,
  options: { signal?: AbortSignal; onProgress?: (progress: PullProgress) => void } = {},
): Promise<PullOutcome> {
  try {
    const auth = await pullAuth(deps.credentials, parseReference(ref).host);
    await deps.engine.pullImage(ref, {
      ...(auth ? { auth } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { ok: true };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

async function pullAuth(credentials: DockerCredentials, host: string): Promise<PullAuth | undefined> {
  const found = await credentials.forHost(host);
  const serveraddress = credentialKey(host);
  if (!found) return undefined;
  return found.kind === "basic"
    ? { serveraddress, username: found.username, password: found.password }
    : { serveraddress, identitytoken: found.token };
}
