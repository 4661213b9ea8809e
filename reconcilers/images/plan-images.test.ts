import { describe, expect, it } from "vitest";
import { LABELS } from "../../platform/labels.ts";
import { planImages, tagsToCheck } from "./plan-images.ts";
import type { PlanImageInput, PlanLocalImage, RegistryView } from "./plan-images.ts";

function image(name: string, parents: string[] = [], extra: Partial<PlanImageInput> = {}): PlanImageInput {
  const hash = `${name}`.padEnd(64, "0");
  return { name, inputHash: hash, tag: `reg/${name}:${hash.slice(0, 12)}`, parents, source: "auto", push: true, ...extra };
}

function local(of: PlanImageInput, tagged = true): PlanLocalImage {
  return {
    id: `sha256:${of.name}`,
    repoTags: tagged ? [of.tag] : ["other:tag"],
    labels: { [LABELS.inputHash]: of.inputHash, [LABELS.image]: of.name },
  };
}

const none: RegistryView = { kind: "none" };
const base = image("base");
const family = image("family", ["base"]);
const app = image("app", ["family"]);

describe("planImages", () => {
  it("reuses every image already present with the same input hash, in hierarchy order", () => {
    const steps = planImages({ images: [base, family, app], localImages: [local(base), local(family), local(app)], registry: none });
    expect(steps.map((s) => [s.name, s.action, s.reason])).toEqual([
      ["base", "reuse", "UpToDate"],
      ["family", "reuse", "UpToDate"],
      ["app", "reuse", "UpToDate"],
    ]);
  });

  it("re-tags an image found by its input-hash label instead of building it", () => {
    const [step] = planImages({ images: [base], localImages: [local(base, false)], registry: none });
    expect(step).toMatchObject({ action: "reuse", reason: "Retagged", needsTag: true, localImageId: "sha256:base" });
  });

  it("does not reuse an image whose label names another image", () => {
    const impostor = { ...local(base), labels: { [LABELS.inputHash]: base.inputHash, [LABELS.image]: "other" } };
    const [step] = planImages({ images: [base], localImages: [impostor], registry: none });
    expect(step?.action).toBe("build");
  });

  it("pulls what the registry has and builds and pushes the rest", () => {
    const registry: RegistryView = { kind: "reachable", host: "reg", present: new Set([base.tag]) };
    const steps = planImages({ images: [base, family], localImages: [], registry });
    expect(steps.map((s) => [s.name, s.action, s.reason, s.push])).toEqual([
      ["base", "pull", "InRegistry", false],
      ["family", "build", "NotInRegistry", true],
    ]);
  });

  it("builds locally, without pushing, when the registry does not answer, and says why", () => {
    const registry: RegistryView = { kind: "unreachable", host: "reg", message: "connect ECONNREFUSED" };
    const [step] = planImages({ images: [base], localImages: [], registry });
    expect(step).toMatchObject({ action: "build", reason: "RegistryUnreachable", push: false });
    expect(step?.message).toContain("ECONNREFUSED");
  });

  it("builds locally, without pushing, an image whose tag the registry refused to the host's credentials, and says so", () => {
    const registry: RegistryView = {
      kind: "reachable",
      host: "reg",
      present: new Set([family.tag]),
      denied: new Map([[base.tag, "HEAD https://reg/v2/base/manifests/x answered 401"]]),
    };
    const steps = planImages({ images: [base, family], localImages: [], registry });
    expect(steps.map((s) => [s.name, s.action, s.reason, s.push])).toEqual([
      ["base", "build", "RegistryUnauthorized", false],
      ["family", "pull", "InRegistry", false],
    ]);
    expect(steps[0]?.message).toContain("answered 401");
  });

  it("stalls a source: pull image whose tag the registry refused: it never builds what CI should have pushed", () => {
    const registry: RegistryView = { kind: "reachable", host: "reg", present: new Set(), denied: new Map([[base.tag, "answered 403"]]) };
    const [step] = planImages({ images: [{ ...base, source: "pull" }], localImages: [], registry });
    expect(step).toMatchObject({ action: "stalled", reason: "RegistryUnauthorized" });
    expect(step?.message).toContain("answered 403");
  });

  it("never pulls a source: build image and never builds a source: pull image", () => {
    const registry: RegistryView = { kind: "reachable", host: "reg", present: new Set([base.tag]) };
    const steps = planImages({
      images: [
        { ...base, source: "build" },
        { ...family, source: "pull" },
      ],
      localImages: [],
      registry,
    });
    expect(steps.map((s) => [s.action, s.reason])).toEqual([
      ["build", "SourceBuild"],
      ["stalled", "NotInRegistry"],
    ]);
  });

  it("stalls an image with a problem and every image below it, and still plans the others", () => {
    const other = image("other");
    const steps = planImages({
      images: [{ ...base, problem: { reason: "MissingParent", message: "x" } }, family, app, other],
      localImages: [],
      registry: none,
    });
    expect(steps.map((s) => [s.name, s.action, s.reason])).toEqual([
      ["base", "stalled", "MissingParent"],
      ["family", "stalled", "ParentStalled"],
      ["app", "stalled", "ParentStalled"],
      ["other", "build", "NotBuilt"],
    ]);
  });

  it("does not retry a build that failed for the same input hash", () => {
    const steps = planImages({ images: [base], localImages: [], registry: none, failedBefore: new Map([["base", base.inputHash]]) });
    expect(steps[0]).toMatchObject({ action: "stalled", reason: "BuildFailed" });
    const changed = planImages({ images: [base], localImages: [], registry: none, failedBefore: new Map([["base", "x".repeat(64)]]) });
    expect(changed[0]?.action).toBe("build");
  });

  it("asks the registry only about images that are not local and may be pulled", () => {
    expect(tagsToCheck([base, family, { ...app, source: "build" }], [local(base)])).toEqual([family.tag]);
  });
});
