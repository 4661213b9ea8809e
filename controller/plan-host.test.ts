import { describe, expect, it } from "vitest";
import { desiredStateFixture } from "../metrics/fixtures/desired-state.ts";
import type { ImagePlanStep } from "../reconcilers/images/plan-images.ts";
import { formatHostPlan, planHost } from "./plan-host.ts";

function stateWithBuiltService() {
  const state = desiredStateFixture({ revision: "r1", machine: "pc2", services: [{ stack: "web", service: "app" }], images: [] });
  const [stack] = state.stacks;
  const [service] = stack?.services ?? [];
  if (!stack || !service) throw new Error("fixture has no service");
  stack.services = [{ ...service, buildImage: "app", source: "build" }];
  return state;
}

describe("planHost", () => {
  it("shows a stack the host policy refuses as refused with its first violation, and plans the others", () => {
    const state = desiredStateFixture({
      revision: "abc1234",
      machine: "box",
      services: [
        { stack: "home", service: "assistant" },
        { stack: "web", service: "nginx" },
      ],
      images: [],
    });
    const denied = new Map([
      [
        "home",
        [
          {
            file: "stacks/home/compose.yaml",
            line: 6,
            field: "services.assistant.network_mode",
            message:
              "refused by the host policy (control hostNetwork, level baseline): network_mode: host shares the host's network namespace",
          },
        ],
      ],
    ]);
    const plan = planHost({
      state,
      machine: "box",
      imageSteps: [],
      observed: { containers: [], images: [], takenAt: 0 },
      statuses: new Map(),
      denied,
    });
    // nginx's image is not on the host and berth does not build it: pulled first (issue 11).
    expect(plan.lines.map((l) => [l.kind, l.name, l.action, l.reason])).toEqual([
      ["image", "berth-test/busybox:1", "pull", "NotPresent"],
      ["stack", "home", "refused", "PolicyDenied"],
      ["service", "web/nginx", "create", "after its image is pulled"],
    ]);
    expect(formatHostPlan(plan)).toContain(
      "stack    home                  refused  PolicyDenied               stacks/home/compose.yaml:6: " +
        "services.assistant.network_mode: refused by the host policy (control hostNetwork, level baseline)",
    );
  });

  it("plans a service as created after its image is tagged when the same input hash is present under another name", () => {
    const step: ImagePlanStep = {
      name: "app",
      tag: "berth/app:0123456789ab",
      inputHash: "0123456789ab",
      action: "reuse",
      reason: "Retagged",
      message: "",
      localImageId: "sha256:1",
      needsTag: true,
      push: false,
    };
    const observed = {
      containers: [],
      images: [
        { id: "sha256:1", repoTags: ["127.0.0.1:5000/fleet/app:0123456789ab"], repoDigests: [], labels: {}, sizeBytes: 1, created: 0 },
      ],
      takenAt: 0,
    };

    const plan = planHost({
      state: stateWithBuiltService(),
      machine: "pc2",
      imageSteps: [step],
      observed,
      statuses: new Map(),
      denied: new Map(),
    });

    expect(plan.lines.find((l) => l.kind === "service")).toMatchObject({
      name: "web/app",
      action: "create",
      reason: "after its image is tagged",
      detail: "berth/app:0123456789ab",
    });
  });
});
