// Service series: health from live containers (worst wins), readiness and waits from status.
import { describe, expect, it } from "vitest";
import type { ContainerHealth, ObservedContainer } from "../platform/observed.ts";
import { serviceRecord, waitingCondition } from "./fixtures/status-records.ts";
import { serviceHealth, serviceSeries } from "./service-series.ts";

function container(stack: string, service: string, state: string, health: ContainerHealth): ObservedContainer {
  return {
    id: `${stack}-${service}-${state}-${health}`,
    name: "n",
    image: "i",
    imageId: "sha256:i",
    labels: { "io.berth.stack": stack, "io.berth.service": service },
    state,
    health,
    created: 0,
    status: "",
  };
}

describe("serviceHealth", () => {
  it("takes the worst health of the live containers and says missing when none is live", () => {
    expect(serviceHealth([container("s", "a", "running", "healthy")])).toBe("healthy");
    expect(serviceHealth([container("s", "a", "running", "healthy"), container("s", "a", "running", "starting")])).toBe("starting");
    expect(serviceHealth([container("s", "a", "restarting", "none")])).toBe("unhealthy");
    expect(serviceHealth([container("s", "a", "running", "none")])).toBe("none");
    expect(serviceHealth([container("s", "a", "exited", "none")])).toBe("missing");
    expect(serviceHealth([])).toBe("missing");
  });
});

describe("serviceSeries", () => {
  it("reports desired services, missing ones included, with readiness and waiting reason", () => {
    const rows = serviceSeries({
      desired: [
        { stack: "web", service: "api" },
        { stack: "ml", service: "llm" },
      ],
      records: [
        serviceRecord("web", "api", true),
        serviceRecord("ml", "llm", false, [waitingCondition("InsufficientVRAM", "needs 70000 MiB")]),
      ],
      containers: [container("web", "api", "running", "healthy")],
    });

    expect(rows).toEqual([
      { stack: "web", service: "api", health: "healthy", ready: true },
      { stack: "ml", service: "llm", health: "missing", ready: false, waiting: "InsufficientVRAM" },
    ]);
  });

  it("drops a service that left the desired state and the engine even if its record remains", () => {
    const rows = serviceSeries({ desired: [], records: [serviceRecord("web", "old", true)], containers: [] });

    expect(rows).toEqual([]);
  });

  it("still reports a berth container the desired state no longer has", () => {
    const rows = serviceSeries({ desired: [], records: [], containers: [container("web", "orphan", "running", "none")] });

    expect(rows).toEqual([{ stack: "web", service: "orphan", health: "none", ready: false }]);
  });

  it("uses the status records when the desired state is unknown, and no health without the engine", () => {
    const rows = serviceSeries({ records: [serviceRecord("web", "api", true)] });

    expect(rows).toEqual([{ stack: "web", service: "api", ready: true }]);
  });
});
