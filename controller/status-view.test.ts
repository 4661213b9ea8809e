import { describe, expect, it } from "vitest";
import type { ObservedContainer } from "../platform/observed.ts";
import type { Condition, ConditionType } from "../status/conditions.ts";
import { buildStatusView, formatStatus } from "./status-view.ts";

const container = (
  stack: string,
  service: string,
  image: string,
  health: ObservedContainer["health"],
  state = "running",
): ObservedContainer => ({
  id: `${stack}-${service}`,
  name: `${stack}-${service}-1`,
  image,
  imageId: "sha256:1",
  labels: { "io.berth.stack": stack, "io.berth.service": service },
  state,
  health,
  created: 0,
  status: "",
});

describe("status view", () => {
  it("tells a person which service rolled back and why, in one screen", () => {
    const view = buildStatusView({
      machine: "pc2",
      ready: true,
      statuses: [
        {
          kind: "source",
          key: "source",
          conditions: [{ type: "Ready", status: "True", reason: "Applied", message: "", lastTransitionTime: "t" }],
          observedRevision: "a".repeat(40),
          lastAppliedRevision: "a".repeat(40),
          updatedAt: "t",
        },
        {
          kind: "service",
          key: "service/memory-fusion-hub/memory_fusion_hub",
          conditions: [
            { type: "Ready", status: "True", reason: "Healthy", message: "", lastTransitionTime: "t" },
            {
              type: "Degraded",
              status: "True",
              reason: "RolledBack",
              message: "revision bbbbbbb failed: health check exited 1",
              lastTransitionTime: "2026-11-27T05:00:00Z",
            },
          ],
          lastAppliedRevision: "a".repeat(40),
          updatedAt: "t",
        },
      ],
      containers: [container("memory-fusion-hub", "memory_fusion_hub", "hub:v2", "healthy")],
    });
    const text = formatStatus(view);
    expect(text).toContain("machine pc2  ready yes  desired aaaaaaa  applied aaaaaaa");
    expect(text).toMatch(
      /memory-fusion-hub\/memory_fusion_hub\s+hub:v2\s+healthy\s+aaaaaaa\s+Ready=True\(Healthy\) Degraded=True\(RolledBack\)/,
    );
    expect(text).toContain("Degraded/RolledBack: revision bbbbbbb failed: health check exited 1");
    expect(view.services[0]?.lastRollback).toContain("2026-11-27T05:00:00Z");
  });

  it("shows a service without a container as missing, and an invalid desired state", () => {
    const view = buildStatusView({
      machine: "pc2",
      ready: false,
      statuses: [
        {
          kind: "source",
          key: "source",
          conditions: [
            {
              type: "Stalled",
              status: "True",
              reason: "InvalidDesiredState",
              message: "berth.yaml:3: resynk: unknown key",
              lastTransitionTime: "t",
            },
          ],
          observedRevision: "c".repeat(40),
          updatedAt: "t",
        },
        { kind: "service", key: "service/web/api", conditions: [], updatedAt: "t" },
      ],
      containers: [],
    });
    const text = formatStatus(view);
    expect(text).toContain("desired state: Stalled=True InvalidDesiredState: berth.yaml:3: resynk: unknown key");
    expect(view.services[0]?.health).toBe("missing");
  });

  it("counts Ready images as ready and lists their budget warnings apart from the images that are not ready", () => {
    const cond = <R extends string>(type: ConditionType, status: "True" | "False", reason: R, message = ""): Condition<R> => ({
      type,
      status,
      reason,
      message,
      lastTransitionTime: "t",
    });
    const view = buildStatusView({
      machine: "pc2",
      ready: false,
      statuses: [
        { kind: "image", key: "image/pc2/base", conditions: [cond("Ready", "True", "UpToDate")], updatedAt: "t" },
        {
          kind: "image",
          key: "image/pc2/utils",
          conditions: [cond("Ready", "True", "Built"), cond("BudgetExceeded", "True", "BudgetWarning", "size 190.0 MiB > budget 175 MiB")],
          updatedAt: "t",
        },
        {
          kind: "image",
          key: "image/pc2/app",
          conditions: [cond("Ready", "False", "BuildFailed", "exit code: 3"), cond("Stalled", "True", "BuildFailed", "exit code: 3")],
          updatedAt: "t",
        },
      ],
      containers: [],
    });
    const text = formatStatus(view);
    expect(text).toContain(
      "images: 3, 2 ready, 1 not ready\n  pc2/app Ready=False/BuildFailed: exit code: 3\n  pc2/app Stalled=True/BuildFailed: " +
        "exit code: 3\nwarnings: 1\n  pc2/utils BudgetExceeded/BudgetWarning: size 190.0 MiB > budget 175 MiB\n",
    );
  });

  it("names the engine it reads from, with its server version or why it does not answer", () => {
    const answering = buildStatusView({
      machine: "pc2",
      ready: false,
      statuses: [],
      containers: [],
      engine: {
        endpoint: "unix:///run/user/1000/docker.sock",
        source: "unix:///run/user/1000/docker.sock (DOCKER_HOST)",
        serverVersion: "26.1.5",
      },
    });
    const silent = buildStatusView({
      machine: "pc2",
      ready: false,
      statuses: [],
      containers: [],
      engine: {
        endpoint: "tcp://10.0.0.5:2376",
        source: "tcp://10.0.0.5:2376 (docker context remote, TLS)",
        error: "connect ECONNREFUSED",
      },
    });
    expect(formatStatus(answering)).toContain("engine unix:///run/user/1000/docker.sock (DOCKER_HOST)  docker 26.1.5");
    expect(formatStatus(silent)).toContain("engine tcp://10.0.0.5:2376 (docker context remote, TLS)  not answering: connect ECONNREFUSED");
  });
});
