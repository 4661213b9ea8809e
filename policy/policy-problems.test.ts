import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../desired-state/problem.ts";
import type { Violation } from "./evaluate-policy.ts";
import { policyDenials, summarizeProblems } from "./policy-problems.ts";

describe("policyDenials", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "policy-problems-"));
    await mkdir(join(root, "stacks", "app"), { recursive: true });
    await mkdir(join(root, "images", "base"), { recursive: true });
    await writeFile(
      join(root, "stacks", "app", "compose.yaml"),
      "services:\n  web:\n    image: ghcr.io/acme/web:1\n    privileged: true\n    volumes:\n      - ./data:/data\n      - " +
        "/etc:/host-etc\n",
    );
    await writeFile(join(root, "images", "base", "Dockerfile"), "# base\nFROM debian:bookworm-slim AS build\nRUN true\n");
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const violation = (v: Partial<Violation>): Violation => ({
    file: "stacks/app/compose.yaml",
    path: [],
    control: "privileged",
    level: "baseline",
    message: "m",
    ...v,
  });

  it("places each violation on its line and groups them by refused stack, the fleet's files apart", async () => {
    const denials = await policyDenials(
      [
        violation({
          stack: "app",
          service: "web",
          path: ["services", "web", "privileged"],
          message: "privileged: true gives the container every capability",
        }),
        violation({
          stack: "app",
          service: "web",
          path: ["services", "web", "volumes", 1, "source"],
          control: "hostPaths",
          message: "bind-mounts /etc",
        }),
        violation({
          file: "images/base/Dockerfile",
          path: ["FROM", "debian:bookworm-slim"],
          control: "registries",
          message: "not allowed",
        }),
      ],
      root,
    );
    expect((denials.stacks.get("app") ?? []).map(formatProblem)).toEqual([
      "stacks/app/compose.yaml:4: services.web.privileged: refused by the host policy (control privileged, level baseline): " +
        "privileged: true gives the container every capability",
      "stacks/app/compose.yaml:7: services.web.volumes.1.source: refused by the host policy (control hostPaths, level baseline): " +
        "bind-mounts /etc",
    ]);
    expect(denials.fleet.map(formatProblem)).toEqual([
      "images/base/Dockerfile:2: FROM: refused by the host policy (control registries, level baseline): not allowed",
    ]);
  });

  it("summarises many problems in one condition message", async () => {
    const denials = await policyDenials(
      [1, 2, 3, 4].map((n) => violation({ stack: "app", path: ["services", "web"], message: `m${n}` })),
      root,
    );
    expect(summarizeProblems(denials.stacks.get("app") ?? [], 2)).toMatch(/m1; .*m2; and 2 more$/);
  });
});
