// Loads a desired state the way every CLI command and the agent do: with compose normalisation.
import { createComposeNormalizer } from "../desired-state/normalize-compose.ts";
import { loadDesiredState } from "../desired-state/load-desired-state.ts";
import type { LoadResult } from "../desired-state/load-desired-state.ts";
import { createComposeCli } from "../platform/compose-cli.ts";

const normalizer = createComposeNormalizer(createComposeCli());

export function loadForCli(dir: string, revision?: string): Promise<LoadResult> {
  return loadDesiredState(dir, { compose: normalizer, ...(revision ? { revision } : {}) });
}
