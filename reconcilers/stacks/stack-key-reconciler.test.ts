import { describe, expect, it } from "vitest";
import { done, transient } from "../reconciler.ts";
import { stackOutcome } from "./stack-key-reconciler.ts";
import type { ServiceResult, StackResult } from "./stack-reconciler.ts";

function result(services: ServiceResult[], extra: Partial<StackResult> = {}): StackResult {
  return { stack: "shop", ready: services.every((s) => s.ready), services, changed: 0, durationMs: 1, ...extra };
}

describe("stackOutcome", () => {
  it("is done and Ready when every service is", () => {
    expect(stackOutcome(result([{ service: "web", action: "unchanged", ready: true, reason: "Healthy", message: "" }]))).toEqual(done());
  });

  it("holds a failed rollout until the desired state changes: done, not Ready, no requeue", () => {
    const rolledBack = { service: "web", action: "update", ready: false, reason: "RolledBack", message: "unhealthy" } as const;

    expect(stackOutcome(result([rolledBack]))).toEqual(done(false));
  });

  it("asks to be looked at again when the stack reconciler says a service waits (VRAM)", () => {
    const waiting = { service: "llm", action: "create", ready: false, reason: "NoRoom", message: "", retryAfterMs: 30_000 } as const;

    expect(stackOutcome(result([waiting], { requeueAfterMs: 30_000 }))).toEqual(done(false, 30_000));
  });

  it("is transient when the engine or compose failed a service, naming each", () => {
    const failed = {
      service: "api",
      action: "restart",
      ready: false,
      reason: "RestoreFailed",
      message: "compose up failed",
      retry: true,
    } as const;

    expect(stackOutcome(result([failed]))).toEqual(transient("RetryableFailure", "shop/api: compose up failed"));
  });
});
