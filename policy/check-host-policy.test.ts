import { describe, expect, it } from "vitest";
import { DEFAULT_ROLLOUT } from "../desired-state/desired-state.ts";
import type { ServiceSpec } from "../desired-state/desired-state.ts";
import { dockerfileUsers, localImageUsers } from "./check-host-policy.ts";

const image = (name: string, final: { from: string; user?: string } | undefined) => ({
  name,
  dockerfileFacts: { fromRefs: [], parents: [], declaredArgs: [], ...(final ? { final } : {}) },
});

describe("dockerfileUsers", () => {
  it("takes the final stage's USER, else the berth parent's, and leaves variables and outside bases unknown", () => {
    const users = dockerfileUsers([
      image("base", { from: "debian:bookworm-slim", user: "app" }),
      image("child", { from: "base" }),
      image("grandchild", { from: "child" }),
      image("own", { from: "base", user: "root" }),
      image("variable", { from: "busybox", user: "${UID}" }),
      image("outside", { from: "node:20" }),
    ]);
    expect(Object.fromEntries(users)).toEqual({ base: "app", child: "app", grandchild: "app", own: "root" });
  });

  it("survives a cycle of parents", () => {
    expect(dockerfileUsers([image("a", { from: "b" }), image("b", { from: "a" })]).size).toBe(0);
  });
});

describe("localImageUsers", () => {
  const service = (name: string, config: Record<string, unknown>, more: Partial<ServiceSpec> = {}): ServiceSpec => ({
    name,
    stack: "s",
    config,
    rollout: DEFAULT_ROLLOUT,
    selfHeal: true,
    source: "auto",
    dependsOn: [],
    hasFixedHostPort: false,
    ...more,
  });

  it("asks the engine once per pulled image that runs without user:, and knows nothing of an image not here", async () => {
    const asked: string[] = [];
    const engine = {
      inspectImage: async (ref: string) => {
        asked.push(ref);
        return ref === "here:1"
          ? { id: "sha256:1", sizeBytes: 0, labels: {}, layers: [], repoTags: [ref], created: "", user: "1000" }
          : undefined;
      },
    };
    const services = [
      service("a", { image: "here:1" }, { image: "here:1" }),
      service("b", { image: "here:1" }, { image: "here:1" }),
      service("c", { image: "gone:1" }, { image: "gone:1" }),
      service("d", { image: "own:1", user: "app" }, { image: "own:1" }),
      service("e", { build: {} }, { buildImage: "e" }),
    ];
    expect(Object.fromEntries(await localImageUsers(engine, [{ services }]))).toEqual({ "here:1": "1000" });
    expect(asked.sort()).toEqual(["gone:1", "here:1"]);
  });
});
