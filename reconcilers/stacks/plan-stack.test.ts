// Fixture tests of the stack planner: what each observed world leads to, service by service.
import { describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedImage } from "../../platform/observed.ts";
import type { ServiceStatus, RollbackEntry } from "../../status/resource-status.ts";
import { planStack } from "./plan-stack.ts";
import type { DesiredService, ServiceAction } from "./plan-stack.ts";

const V1 = "sha256:v1";
const V2 = "sha256:v2";

function desired(name: string, hash: string, image: string, extra: Partial<DesiredService> = {}): DesiredService {
  return {
    name,
    selfHeal: true,
    effective: { ok: true, name, image, specHash: hash, config: { image, labels: { "io.berth.spec-hash": hash } } },
    ...extra,
  };
}

function container(service: string, hash: string, imageId: string, extra: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `${service}-${hash}`,
    name: `shop-${service}-1`,
    image: "x",
    imageId,
    labels: {
      "com.docker.compose.project": "shop",
      "com.docker.compose.service": service,
      "io.berth.managed": "true",
      "io.berth.spec-hash": hash,
    },
    state: "running",
    health: "healthy",
    created: 1,
    status: "Up 1 minute (healthy)",
    ...extra,
  };
}

const images: ObservedImage[] = [
  { id: V1, repoTags: ["shop/web:v1"], repoDigests: [], labels: {}, sizeBytes: 1, created: 1 },
  { id: V2, repoTags: ["shop/web:v2"], repoDigests: [], labels: {}, sizeBytes: 1, created: 2 },
];

const entryV1: RollbackEntry = {
  imageId: V1,
  tag: "berth-rollback/shop-web:current",
  revision: "r1",
  specHash: "h1",
  config: { image: "shop/web:v1" },
  recordedAt: 1,
};

function status(extra: Partial<ServiceStatus>): ServiceStatus {
  return { kind: "service", key: "service/shop/web", conditions: [], updatedAt: "", current: entryV1, ...extra };
}

function kindOf(actions: { service: string; action: ServiceAction }[], service: string): string | undefined {
  return actions.find((a) => a.service === service)?.action.kind;
}

describe("planStack", () => {
  it("leaves a running, healthy service with the same spec hash unchanged", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1")],
      containers: [container("web", "h1", V1)],
      images,
    });
    expect(kindOf(plan.services, "web")).toBe("unchanged");
  });

  it.each([
    ["an enforced budget", { reason: "BudgetEnforced", message: "image web breaches an enforced budget (size 90.0 MiB > budget 10 MiB)" }],
    ["vuln: the vulnerability gate", { reason: "VulnerabilitiesFound", message: "image web has vulnerabilities that are not allowed" }],
  ])("holds a rollout to an image held by %s, with its reason, leaving the running version alone", (_what, hold) => {
    const holds = new Map([["shop/web:v2", hold]]);
    const update = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h2", "shop/web:v2", { status: status({}) })],
      containers: [container("web", "h1", V1)],
      images,
      holds,
    });
    expect(update.services[0]?.action).toEqual({ kind: "blocked", reason: hold.reason, message: `rollout waits: ${hold.message}` });
    const create = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h2", "shop/web:v2")],
      containers: [],
      images,
      holds,
    });
    expect(kindOf(create.services, "web")).toBe("blocked");
    const alreadyRunning = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h2", "shop/web:v2")],
      containers: [container("web", "h2", V2)],
      images,
      holds,
    });
    expect(kindOf(alreadyRunning.services, "web")).toBe("unchanged");
  });

  it("creates a service that has never run", () => {
    const plan = planStack({ stack: "shop", prune: false, services: [desired("web", "h1", "shop/web:v1")], containers: [], images });
    expect(kindOf(plan.services, "web")).toBe("create");
  });

  it("updates a service whose spec hash changed, from the running container", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h2", "shop/web:v2", { status: status({}) })],
      containers: [container("web", "h1", V1)],
      images,
    });
    const action = plan.services[0]?.action;
    expect(action?.kind).toBe("update");
    expect(action && action.kind === "update" ? action.from?.id : undefined).toBe("web-h1");
  });

  it("restarts a service stopped by hand", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1", { status: status({}) })],
      containers: [container("web", "h1", V1, { state: "exited", health: "none" })],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({ kind: "restart", drift: "stopped" });
  });

  it("restarts a service removed by hand", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1", { status: status({}) })],
      containers: [],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({ kind: "restart", drift: "removed" });
  });

  it("restarts a service swapped to another image by hand", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1", { status: status({}) })],
      containers: [container("web", "h1", V2)],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({ kind: "restart", drift: "replaced" });
  });

  it("only reports drift when selfHeal is off", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1", { selfHeal: false, status: status({}) })],
      containers: [],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({ kind: "drifted", drift: "removed" });
  });

  it("holds the previous version while the desired spec hash is the one that failed", () => {
    const failed = { revision: "r3", specHash: "h3", reason: "Unhealthy", message: "boom", at: 1 };
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h3", "shop/web:v2", { status: status({ failed }) })],
      containers: [container("web", "h1", V1)],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({ kind: "unchanged", target: { hold: "failed", specHash: "h1" } });
  });

  it("tries again once the desired spec hash moves past the failed one", () => {
    const failed = { revision: "r3", specHash: "h3", reason: "Unhealthy", message: "boom", at: 1 };
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h4", "shop/web:v2", { status: status({ failed }) })],
      containers: [container("web", "h1", V1)],
      images,
    });
    expect(kindOf(plan.services, "web")).toBe("update");
  });

  it("swaps to a pinned version while the desired spec hash is the one it was pinned against", () => {
    const older: RollbackEntry = { ...entryV1, imageId: V2, specHash: "h0", revision: "r0" };
    const pinned = { imageId: V2, tag: "berth-rollback/shop-web:rollback-1", revision: "r0", specHash: "h0", desiredSpecHash: "h1" };
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1", { status: status({ pinned, history: [older] }) })],
      containers: [container("web", "h1", V1)],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({
      kind: "update",
      target: { hold: "pinned", specHash: "h0", imageId: V2, config: { image: V2 } },
    });
  });

  it("waits instead of stopping anything when the new image is not on the host", () => {
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h9", "shop/web:v9", { status: status({}) })],
      containers: [container("web", "h1", V1)],
      images,
    });
    expect(plan.services[0]?.action).toMatchObject({ kind: "blocked", reason: "ImageMissing" });
  });

  it("prunes only berth-labelled containers of services that left, and only with prune on", () => {
    const gone = container("old", "h7", V1);
    const foreign = container("hand", "h8", V1, { labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "hand" } });
    const input = {
      stack: "shop",
      services: [desired("web", "h1", "shop/web:v1")],
      containers: [container("web", "h1", V1), gone, foreign],
      images,
    };
    expect(planStack({ ...input, prune: false }).remove).toEqual([]);
    expect(planStack({ ...input, prune: true }).remove.map((c) => c.id)).toEqual([gone.id]);
  });

  it("reports a starting or unhealthy container with the desired spec without touching it", () => {
    const starting = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1")],
      containers: [container("web", "h1", V1, { health: "starting" })],
      images,
    });
    const unhealthy = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1")],
      containers: [container("web", "h1", V1, { health: "unhealthy" })],
      images,
    });
    expect(kindOf(starting.services, "web")).toBe("starting");
    expect(kindOf(unhealthy.services, "web")).toBe("unhealthy");
  });

  it("ignores containers of other projects and one-off runs", () => {
    const other = container("web", "h0", V2, { labels: { "com.docker.compose.project": "blog", "com.docker.compose.service": "web" } });
    const oneoff = container("web", "h0", V2, {
      labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "web", "com.docker.compose.oneoff": "True" },
    });
    const plan = planStack({
      stack: "shop",
      prune: false,
      services: [desired("web", "h1", "shop/web:v1")],
      containers: [other, oneoff],
      images,
    });
    expect(kindOf(plan.services, "web")).toBe("create");
  });
});
