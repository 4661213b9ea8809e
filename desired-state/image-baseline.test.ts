// The baseline schema and the reduction against a declared baseline or the previous image.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { imageFileSchema } from "./image-file-schema.ts";
import { serviceExtensionSchema } from "./compose-extension-schema.ts";
import { engineImageSize, reductionBaseline, reductionRatio } from "./image-baseline.ts";

const MIB = 1024 * 1024;
const engine = [
  { repoTags: ["legacy/app:2023"], repoDigests: ["legacy/app@sha256:abc"], id: "sha256:111", sizeBytes: 300 * MIB },
  { repoTags: ["python:3.11"], sizeBytes: 1000 * MIB },
  { repoTags: ["busybox:latest"], sizeBytes: 4 * MIB },
];

describe("image baseline", () => {
  it("accepts an image reference or a size, in image.yaml and x-berth, with minReduction", () => {
    expect(imageFileSchema.parse({ baseline: { image: "legacy/app:2023" }, budgets: { minReduction: 0.55 } }).baseline).toEqual({
      image: "legacy/app:2023",
    });
    expect(serviceExtensionSchema.parse({ baseline: { sizeMiB: 850 } }).baseline).toEqual({ sizeMiB: 850 });
  });

  it("refuses both, neither, a typo and a reduction above 1", () => {
    const problems = (value: unknown): string => {
      const result = imageFileSchema.safeParse(value);
      return result.success ? "" : z.prettifyError(result.error);
    };
    expect(problems({ baseline: { image: "a:1", sizeMiB: 3 } })).toContain("give exactly one of image or sizeMiB");
    expect(problems({ baseline: {} })).toContain("at baseline");
    expect(problems({ baseline: { sizeMb: 3 } })).toContain("sizeMb");
    expect(problems({ budgets: { minReduction: 55 } })).toContain("budgets.minReduction");
  });

  it("reads a baseline image's size from the engine by tag, short name, digest or id", () => {
    expect(engineImageSize("legacy/app:2023", engine)).toBe(300 * MIB);
    expect(engineImageSize("docker.io/library/python:3.11", engine)).toBe(1000 * MIB);
    expect(engineImageSize("busybox", engine)).toBe(4 * MIB);
    expect(engineImageSize("legacy/app@sha256:abc", engine)).toBe(300 * MIB);
    expect(engineImageSize("sha256:111", engine)).toBe(300 * MIB);
    expect(engineImageSize("legacy/app:2024", engine)).toBeUndefined();
  });

  it("measures against the declared baseline, else the previous image of the same name", () => {
    expect(reductionBaseline({ image: "legacy/app:2023" }, 50 * MIB, engine)).toEqual({
      kind: "image",
      ref: "legacy/app:2023",
      sizeBytes: 300 * MIB,
    });
    expect(reductionBaseline({ image: "absent:1" }, 50 * MIB, engine)).toEqual({ kind: "image", ref: "absent:1" });
    expect(reductionBaseline({ sizeMiB: 200 }, 50 * MIB, engine)).toEqual({ kind: "sizeMiB", sizeBytes: 200 * MIB });
    expect(reductionBaseline(undefined, 50 * MIB, engine)).toEqual({ kind: "previous", sizeBytes: 50 * MIB });
    expect(reductionBaseline(undefined, undefined, engine)).toEqual({ kind: "previous" });
  });

  it("gives the reduction as a fraction, negative when the image grew", () => {
    expect(reductionRatio(120 * MIB, { kind: "sizeMiB", sizeBytes: 300 * MIB })).toBeCloseTo(0.6);
    expect(reductionRatio(150 * MIB, { kind: "previous", sizeBytes: 100 * MIB })).toBeCloseTo(-0.5);
    expect(reductionRatio(150 * MIB, { kind: "image", ref: "absent:1" })).toBeUndefined();
  });
});
