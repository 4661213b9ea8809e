import { describe, expect, it } from "vitest";
import { desiredStateFixture } from "../metrics/fixtures/desired-state.ts";
import { formatHostPlan, planHost } from "./plan-host.ts";

describe("planHost", () => {
  it("shows a stack the host policy refuses as refused with its first violation, and plans the others", () => {
    const state = desiredStateFixture({ revision: "abc1234", machine: "box", services: [{ stack: "home", service: "assistant" }, { stack: "web", service: "nginx" }], images: [] });
    const denied = new Map([["home", [{ file: "stacks/home/compose.yaml", line: 6, field: "services.assistant.network_mode", message: "refused by the host policy (control hostNetwork, level baseline): network_mode: host shares the host's network namespace" }]]]);
    const plan = planHost({ state, machine: "box", imageSteps: [], observed: { containers: [], images: [], takenAt: 0 }, statuses: new Map(), denied });
    // nginx's image is not on the host and berth does not build it: pulled first (issue 11).
    expect(plan.lines.map((l) => [l.kind, l.name, l.action, l.reason])).toEqual([
      ["image", "berth-test/busybox:1", "pull", "NotPresent"],
      ["stack", "home", "refused", "PolicyDenied"],
      ["service", "web/nginx", "create", "after its image is pulled"],
    ]);
    expect(formatHostPlan(plan)).toContain("stack    home                  refused  PolicyDenied               stacks/home/compose.yaml:6: services.assistant.network_mode: refused by the host policy (control hostNetwork, level baseline)");
  });
});
