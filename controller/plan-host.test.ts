import { describe, expect, it } from "vitest";
import type { Budgets } from "../desired-state/budgets-schema.ts";
import { desiredStateFixture } from "../metrics/fixtures/desired-state.ts";
import type { Observed } from "../platform/observed.ts";
import type { ImagePlanStep } from "../reconcilers/images/plan-images.ts";
import type { ScanCacheEntry } from "../reconcilers/images/scan-cache.ts";
import type { ResourceStatus } from "../status/resource-status.ts";
import { formatHostPlan, planHost } from "./plan-host.ts";

const MIB = 1024 * 1024;
const TAG = "berth/app:0123456789ab";
/** The app image, not built yet under this input hash. */
const NEW_BUILD: ImagePlanStep = {
  name: "app",
  tag: TAG,
  inputHash: "0123456789ab",
  action: "build",
  reason: "NotBuilt",
  message: "",
  push: false,
};

/** The app image, built before under this input hash at `sizeMiB`, on the host now. */
function builtApp(sizeMiB: number): { step: ImagePlanStep; observed: Observed; statuses: Map<string, ResourceStatus> } {
  const step: ImagePlanStep = {
    name: "app",
    tag: TAG,
    inputHash: "0123456789ab",
    action: "reuse",
    reason: "UpToDate",
    message: "",
    localImageId: "sha256:2",
    push: false,
  };
  const image = { id: "sha256:2", repoTags: [TAG], repoDigests: [], labels: {}, sizeBytes: sizeMiB * MIB, created: 0 };
  const status: ResourceStatus = {
    kind: "image",
    key: "image/pc2/app",
    conditions: [],
    updatedAt: "2026-12-01T00:00:00.000Z",
    build: { inputHash: "0123456789ab", tag: TAG, imageId: "sha256:2", action: "build", sizeBytes: sizeMiB * MIB, recordedAt: 1 },
  };
  return { step, observed: { containers: [], images: [image], takenAt: 0 }, statuses: new Map([[status.key, status]]) };
}

function stateWithBuiltService(budgets: Budgets = {}) {
  const state = desiredStateFixture({
    revision: "r1",
    machine: "pc2",
    services: [{ stack: "web", service: "app" }],
    images: [{ name: "app", budgets }],
  });
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

  it("says which rollout an enforced budget holds, and why, for an image kept from an earlier build", () => {
    const { step, observed, statuses } = builtApp(9);

    const plan = planHost({
      state: stateWithBuiltService({ sizeMiB: 4, enforce: true }),
      machine: "pc2",
      imageSteps: [step],
      observed,
      statuses,
    });

    expect(plan.lines.find((l) => l.kind === "service")).toEqual({
      kind: "service",
      name: "web/app",
      action: "blocked",
      reason: "BudgetEnforced",
      detail: "BudgetEnforced: rollout waits: image app breaches an enforced budget (size 9.0 MiB > budget 4 MiB)",
    });
    expect(plan.changes).toBe(1);
    expect(formatHostPlan(plan)).toMatch(/web\/app +blocked +BudgetEnforced +BudgetEnforced: rollout waits: image app breaches/);
  });

  it("holds nothing when the budget is a warning only or the image fits it", () => {
    const { step, observed, statuses } = builtApp(9);

    const warned = planHost({ state: stateWithBuiltService({ sizeMiB: 4 }), machine: "pc2", imageSteps: [step], observed, statuses });
    const fits = planHost({
      state: stateWithBuiltService({ sizeMiB: 16, enforce: true }),
      machine: "pc2",
      imageSteps: [step],
      observed,
      statuses,
    });

    for (const plan of [warned, fits]) expect(plan.lines.find((l) => l.kind === "service")).toMatchObject({ action: "create" });
  });

  it("judges a reused image without recorded facts by its size on the host", () => {
    const { step, observed } = builtApp(9);

    const plan = planHost({
      state: stateWithBuiltService({ sizeMiB: 4, enforce: true }),
      machine: "pc2",
      imageSteps: [step],
      observed,
      statuses: new Map(),
    });

    expect(plan.lines.find((l) => l.kind === "service")).toMatchObject({ action: "blocked", reason: "BudgetEnforced" });
  });

  it("says that a rollout after a new build waits if the image breaches an enforced budget", () => {
    const { observed } = builtApp(9);
    const plan = planHost({
      state: stateWithBuiltService({ sizeMiB: 4, buildSeconds: 60, enforce: true }),
      machine: "pc2",
      imageSteps: [NEW_BUILD],
      observed: { ...observed, images: [] },
      statuses: new Map(),
    });

    expect(plan.lines.find((l) => l.kind === "service")).toEqual({
      kind: "service",
      name: "web/app",
      action: "create",
      reason: "after its image is built",
      detail: `${TAG}; then waits if it breaches an enforced budget (sizeMiB 4, buildSeconds 60)`,
    });
  });

  describe("the vulnerability gate", () => {
    const NOW = new Date("2026-12-02T00:00:00.000Z");
    const critical: ScanCacheEntry = {
      dbVersion: "db1",
      scannedAt: NOW.getTime() - 3600_000,
      findings: [
        { id: "CVE-2026-0001", severity: "critical", fixed: true },
        { id: "CVE-2026-0002", severity: "low", fixed: false },
      ],
    };
    function gatedState(scan: { failOn?: ("critical" | "low")[]; enforce?: boolean }) {
      return { ...stateWithBuiltService(), scan };
    }

    it("holds a reused image whose cached scan result has a finding at a failOn severity", () => {
      const { step, observed, statuses } = builtApp(9);

      const plan = planHost({
        state: gatedState({ failOn: ["critical"] }),
        machine: "pc2",
        imageSteps: [step],
        observed,
        statuses,
        scans: { cache: new Map([["trivy sha256:2", critical]]), now: NOW },
      });

      expect(plan.lines.find((l) => l.kind === "service")).toEqual({
        kind: "service",
        name: "web/app",
        action: "blocked",
        reason: "VulnerabilitiesFound",
        detail:
          "VulnerabilitiesFound: rollout waits: image app has vulnerabilities that are not allowed: " +
          "1 critical, 1 low (failOn: critical: CVE-2026-0001)",
      });
    });

    it("lets the rollout go when the cached result is clean at the failOn severities, allowed, or the gate is a warning", () => {
      const { step, observed, statuses } = builtApp(9);
      const scans = { cache: new Map([["trivy sha256:2", critical]]), now: NOW };
      const allowed = {
        ...stateWithBuiltService(),
        scan: { failOn: ["critical" as const], allow: [{ id: "CVE-2026-0001", expires: "2026-12-31" }] },
      };

      const plans = [
        planHost({ state: gatedState({ failOn: ["low"] }), machine: "pc2", imageSteps: [step], observed, statuses, scans }),
        planHost({ state: allowed, machine: "pc2", imageSteps: [step], observed, statuses, scans }),
        planHost({
          state: gatedState({ failOn: ["critical"], enforce: false }),
          machine: "pc2",
          imageSteps: [step],
          observed,
          statuses,
          scans,
        }),
      ];

      expect(plans[0]?.lines.find((l) => l.kind === "service")).toMatchObject({ action: "blocked", reason: "VulnerabilitiesFound" });
      for (const plan of plans.slice(1))
        expect(plan.lines.find((l) => l.kind === "service")).toMatchObject({ action: "create", detail: "" });
    });

    it("says a rollout to a reused image waits for the scan when no recent result is cached, and never guesses a verdict", () => {
      const { step, observed, statuses } = builtApp(9);
      const old = { cache: new Map([["trivy sha256:2", critical]]), now: new Date(NOW.getTime() + 2 * 86_400_000) };
      const otherScanner = { cache: new Map([["grype sha256:2", critical]]), now: NOW };

      const plans = [
        planHost({ state: gatedState({ failOn: ["critical"] }), machine: "pc2", imageSteps: [step], observed, statuses }),
        planHost({ state: gatedState({ failOn: ["critical"] }), machine: "pc2", imageSteps: [step], observed, statuses, scans: old }),
        planHost({
          state: gatedState({ failOn: ["critical"] }),
          machine: "pc2",
          imageSteps: [step],
          observed,
          statuses,
          scans: otherScanner,
        }),
      ];

      for (const plan of plans)
        expect(plan.lines.find((l) => l.kind === "service")).toEqual({
          kind: "service",
          name: "web/app",
          action: "create",
          reason: "no container yet",
          detail: "then waits for the vulnerability scan (no recent result cached; failOn: critical)",
        });
    });

    it("says a rollout after a new build waits if the scan finds a failOn severity", () => {
      const plan = planHost({
        state: gatedState({ failOn: ["critical", "low"] }),
        machine: "pc2",
        imageSteps: [NEW_BUILD],
        observed: { containers: [], images: [], takenAt: 0 },
        statuses: new Map(),
      });

      expect(plan.lines.find((l) => l.kind === "service")).toMatchObject({
        action: "create",
        reason: "after its image is built",
        detail: `${TAG}; then waits if the vulnerability scan finds critical, low`,
      });
    });
  });
});
