// The pre-migration baseline an image's size is measured against (`baseline:`), and its size.
import { z } from "zod";

export const baselineSchema = z
  .strictObject({
    /** An image reference; berth reads its size from the engine. */
    image: z.string().min(1).optional(),
    /** The baseline's size when it is not an image on the host. */
    sizeMiB: z.number().positive().optional(),
  })
  .refine((b) => (b.image === undefined) !== (b.sizeMiB === undefined), { error: "give exactly one of image or sizeMiB" });

export type Baseline = z.output<typeof baselineSchema>;

/** What a size reduction is measured against: the declared baseline, or the previous image of the same name. */
export type ReductionBaseline =
  { kind: "image"; ref: string; sizeBytes?: number } | { kind: "sizeMiB"; sizeBytes: number } | { kind: "previous"; sizeBytes?: number };

export type EngineImage = { repoTags: readonly string[]; repoDigests?: readonly string[]; id?: string; sizeBytes: number };

const MIB = 1024 * 1024;

/** The name an engine lists for a reference: no docker.io/library prefix, `:latest` when untagged. */
export function normalizeImageRef(ref: string): string {
  let out = ref.replace(/^(?:docker\.io|index\.docker\.io)\//, "").replace(/^library\//, "");
  const lastPart = out.slice(out.lastIndexOf("/") + 1);
  if (!lastPart.includes(":") && !out.includes("@")) out = `${out}:latest`;
  return out;
}

/** Size of the image `ref` among the engine's images (by tag, digest or id), if it is there. */
export function engineImageSize(ref: string, images: readonly EngineImage[]): number | undefined {
  const wanted = normalizeImageRef(ref);
  const found = images.find(
    (image) =>
      image.repoTags.some((tag) => normalizeImageRef(tag) === wanted) ||
      (image.repoDigests ?? []).some((digest) => normalizeImageRef(digest) === normalizeImageRef(ref)) ||
      (image.id !== undefined && (image.id === ref || image.id === `sha256:${ref}`)),
  );
  return found?.sizeBytes;
}

/** The declared baseline when there is one (an image absent from the engine has no size), else the previous image. */
export function reductionBaseline(
  declared: Baseline | undefined,
  previousSizeBytes: number | undefined,
  images: readonly EngineImage[],
): ReductionBaseline {
  if (declared?.image !== undefined) {
    const sizeBytes = engineImageSize(declared.image, images);
    return { kind: "image", ref: declared.image, ...(sizeBytes !== undefined ? { sizeBytes } : {}) };
  }
  if (declared?.sizeMiB !== undefined) return { kind: "sizeMiB", sizeBytes: declared.sizeMiB * MIB };
  return { kind: "previous", ...(previousSizeBytes !== undefined && previousSizeBytes > 0 ? { sizeBytes: previousSizeBytes } : {}) };
}

/** 1 − size / baseline (0.6 = 60 % smaller; negative = bigger), when the baseline has a size. */
export function reductionRatio(sizeBytes: number, baseline: ReductionBaseline): number | undefined {
  return baseline.sizeBytes !== undefined && baseline.sizeBytes > 0 ? 1 - sizeBytes / baseline.sizeBytes : undefined;
}
