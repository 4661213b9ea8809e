// Pending pushes, as logic: which status owes one, the retry backoff, which tags go, which push errors mean "not answering".
import { describe, expect, it } from "vitest";
import type { ResourceStatus } from "../../status/resource-status.ts";
import { nextPushRetryMs, owedPush, pushRetryDelayMs, registryDidNotAnswer, tagsToPush } from "./pending-push.ts";

const T0 = Date.UTC(2026, 5, 1);

function status(pendingSince?: number): ResourceStatus {
  return {
    kind: "image",
    key: "image/m1/app",
    conditions:
      pendingSince === undefined
        ? []
        : [
            {
              type: "PushPending",
              status: "True",
              reason: "RegistryUnreachable",
              message: "",
              lastTransitionTime: new Date(pendingSince).toISOString(),
            },
          ],
    build: { inputHash: "h", tag: "reg/app:h-m1", imageId: "sha256:built", action: "build", sizeBytes: 1, recordedAt: T0 },
    updatedAt: "",
  };
}

describe("pending pushes", () => {
  it("owes the exact image id it built while the condition holds", () => {
    expect(owedPush(status(T0))).toEqual({ imageId: "sha256:built", tag: "reg/app:h-m1", inputHash: "h" });
    expect(owedPush(status())).toBeUndefined();
  });

  it("backs off from 15 s to at most 5 min as the push stays pending", () => {
    expect(pushRetryDelayMs(T0, T0)).toBe(15_000);
    expect(pushRetryDelayMs(T0, T0 + 60_000)).toBe(60_000);
    expect(pushRetryDelayMs(T0, T0 + 3_600_000)).toBe(300_000);
    expect(nextPushRetryMs([status(T0), status(T0 + 50_000), status(), undefined], T0 + 100_000)).toBe(50_000);
    expect(nextPushRetryMs([status()], T0)).toBeUndefined();
  });

  it("pushes the built image's content and human tags of its repository, not `latest` nor other repositories", () => {
    const images = [
      {
        id: "sha256:built",
        repoTags: ["reg/app:h-m1", "reg/app:20260601-0123456-m1", "reg/app:latest-m1", "berth-rollback/s-app:current"],
      },
      { id: "sha256:other", repoTags: ["reg/app:older-m1"] },
    ];
    expect(tagsToPush("sha256:built", "reg/app", images)).toEqual(["reg/app:20260601-0123456-m1", "reg/app:h-m1"]);
  });

  it("tells a registry that does not answer from one that refuses", () => {
    expect(registryDidNotAnswer("dial tcp 127.0.0.1:5000: connect: connection refused")).toBe(true);
    expect(registryDidNotAnswer("received unexpected HTTP status: 503 Service Unavailable")).toBe(true);
    expect(registryDidNotAnswer("denied: requested access to the resource is denied")).toBe(false);
    expect(registryDidNotAnswer("unknown: The operation is unsupported. 405 Method Not Allowed")).toBe(false);
  });
});
