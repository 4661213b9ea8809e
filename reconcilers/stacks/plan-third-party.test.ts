// The plan of images berth does not build, from fixtures: pinned stays, track follows the tag,
// pulls only what is missing, and registry trouble never stops a running service.
import { describe, expect, it } from "vitest";
import type { ObservedImage } from "../../platform/observed.ts";
import { decideImage, needsLookup, refsToLookUp } from "./plan-third-party.ts";
import type { ThirdPartyService } from "./plan-third-party.ts";

const REF = "127.0.0.1:5000/cache:1";
const OLD = "sha256:0ld";
const NEW = "sha256:new";

function image(id: string, tags: string[], digests: string[]): ObservedImage {
  return { id, repoTags: tags, repoDigests: digests, labels: {}, sizeBytes: 1, created: 1 };
}

const oldImage = image("sha256:id-old", [], [`127.0.0.1:5000/cache@${OLD}`]);
const newImage = image("sha256:id-new", [REF], [`127.0.0.1:5000/cache@${NEW}`]);
const pinnedOld = { ref: REF, imageId: "sha256:id-old", digest: `127.0.0.1:5000/cache@${OLD}` };

function service(update: "pinned" | "track", record?: ThirdPartyService["record"]): ThirdPartyService {
  return { name: "cache", ref: REF, update, ...(record ? { record } : {}) };
}

describe("decideImage", () => {
  it("pulls a reference that is not on the host, and runs it by digest once pulled", () => {
    expect(decideImage(service("pinned"), [], undefined)).toMatchObject({ kind: "pull", pull: REF, reason: "NotPresent" });
    expect(decideImage(service("pinned"), [newImage], undefined, new Map([[REF, { ok: true }]]))).toEqual({
      kind: "use",
      runAs: `127.0.0.1:5000/cache@${NEW}`,
      image: { ref: REF, imageId: "sha256:id-new", digest: `127.0.0.1:5000/cache@${NEW}` },
    });
  });

  it("adopts a reference already on the host without a pull, by image id when it has no registry digest", () => {
    const local = image("sha256:local", ["web:v1"], []);
    expect(decideImage({ name: "web", ref: "web:v1", update: "pinned" }, [local], undefined)).toMatchObject({
      kind: "use",
      runAs: "sha256:local",
      image: { ref: "web:v1", imageId: "sha256:local" },
    });
  });

  it("keeps a pinned service on its recorded image when the tag now names another one", () => {
    expect(decideImage(service("pinned", pinnedOld), [oldImage, newImage], undefined)).toMatchObject({
      kind: "use",
      runAs: `127.0.0.1:5000/cache@${OLD}`,
    });
    expect(needsLookup(service("pinned", pinnedOld))).toBe(false);
  });

  it("pulls a pinned image that was pruned away again by its digest, not by the tag", () => {
    expect(decideImage(service("pinned", pinnedOld), [newImage], undefined)).toMatchObject({
      kind: "pull",
      pull: `127.0.0.1:5000/cache@${OLD}`,
      reason: "PinnedImageMissing",
    });
  });

  it("pulls a changed reference", () => {
    expect(decideImage(service("pinned", { ...pinnedOld, ref: "127.0.0.1:5000/cache:0" }), [oldImage], undefined)).toMatchObject({
      kind: "pull",
      pull: REF,
      reason: "ReferenceChanged",
    });
  });

  it("follows a tracked tag that moved in the registry, and stays when it did not", () => {
    const tracked = service("track", pinnedOld);
    expect(needsLookup(tracked)).toBe(true);
    expect(decideImage(tracked, [oldImage], { kind: "digest", digest: OLD })).toMatchObject({
      kind: "use",
      runAs: `127.0.0.1:5000/cache@${OLD}`,
    });
    expect(decideImage(tracked, [oldImage], { kind: "digest", digest: NEW })).toMatchObject({
      kind: "pull",
      pull: REF,
      reason: "TagMoved",
      message: `${REF} moved from 127.0.0.1:5000/cache@${OLD} to ${NEW}`,
    });
    expect(decideImage(tracked, [oldImage, newImage], { kind: "digest", digest: NEW })).toMatchObject({
      kind: "use",
      runAs: `127.0.0.1:5000/cache@${NEW}`,
    });
  });

  it("keeps a tracked service running when the registry does not answer or the pull fails", () => {
    const tracked = service("track", pinnedOld);
    expect(
      decideImage(tracked, [oldImage], { kind: "failed", reason: "RegistryUnreachable", message: "registry 127.0.0.1:5000: fetch failed" }),
    ).toMatchObject({ kind: "use", runAs: `127.0.0.1:5000/cache@${OLD}`, degraded: { reason: "RegistryUnreachable" } });
    const failedPull = new Map([[REF, { ok: false as const, message: "connection refused" }]]);
    expect(decideImage(tracked, [oldImage], { kind: "digest", digest: NEW }, failedPull)).toMatchObject({
      kind: "use",
      runAs: `127.0.0.1:5000/cache@${OLD}`,
      degraded: { reason: "PullFailed" },
    });
  });

  it("waits with PullFailed and the registry's message when the image is not on the host and cannot be pulled", () => {
    const failedPull = new Map([[REF, { ok: false as const, message: "manifest unknown" }]]);
    expect(decideImage(service("pinned"), [], undefined, failedPull)).toEqual({
      kind: "blocked",
      reason: "PullFailed",
      message: `${REF} is not on this host and its pull failed: manifest unknown`,
    });
  });

  it("pulls the tag again after `berth retry`, and runs what it pulled", () => {
    const retried = service("pinned", { ...pinnedOld, refresh: true });
    expect(decideImage(retried, [oldImage, newImage], undefined)).toMatchObject({ kind: "pull", pull: REF, reason: "Retry" });
    expect(decideImage(retried, [oldImage, newImage], undefined, new Map([[REF, { ok: true }]]))).toMatchObject({
      kind: "use",
      image: { imageId: "sha256:id-new" },
    });
  });
});

describe("refsToLookUp", () => {
  it("asks once per distinct tracked reference and never for pinned or digest references", () => {
    const services: ThirdPartyService[] = [
      service("track", pinnedOld),
      { ...service("track", pinnedOld), name: "cache-2" },
      { name: "db", ref: "redis:7", update: "pinned", record: { ref: "redis:7", imageId: "sha256:r" } },
      { name: "new", ref: "redis:8", update: "track" },
      {
        name: "fixed",
        ref: `127.0.0.1:5000/cache@${OLD}`,
        update: "track",
        record: { ref: `127.0.0.1:5000/cache@${OLD}`, imageId: "sha256:id-old" },
      },
    ];
    expect(refsToLookUp(services)).toEqual([REF]);
  });
});
