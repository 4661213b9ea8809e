// Bounded work on any input: a valid 400-stack desired state validates against real
// `docker compose config` without a timeout (compose runs a few processes at a time).
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateFleet } from "../../bench/fleet-generator.ts";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import { createComposeNormalizer } from "../../desired-state/normalize-compose.ts";
import { formatProblem } from "../../desired-state/problem.ts";
import { createComposeCli } from "../../platform/compose-cli.ts";

describe("a desired state with 400 stacks", () => {
  let root: string;
  beforeAll(async () => {
    root = await generateFleet({ services: 400, images: 0, perStack: 1, prefix: "harden-bounded-" });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("validates with every stack normalised by compose, none timing out", { timeout: 600_000 }, async () => {
    const result = await loadDesiredState(root, { compose: createComposeNormalizer(createComposeCli()) });

    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
    expect(result.ok && result.state.stacks.length).toBe(400);
  });
});
