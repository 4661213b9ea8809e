// Loose schema of a compose file's body as berth reads it: only the keys berth looks at, each
// read as absent when it has another shape; every other key passes (docker compose checks them).
import { z } from "zod";

const mapping = z.record(z.string(), z.unknown());
const maybe = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

/** `build:` as a context path or a mapping (any other value reads as an empty one); berth reads context, dockerfile and args. */
export const composeBuildSchema = z
  .union([
    z.string().transform((context) => ({ context })),
    z.looseObject({ context: maybe(z.string()), dockerfile: maybe(z.string()), args: maybe(mapping) }),
    z.unknown().transform(() => ({})),
  ])
  .transform((build): ComposeBuild => build);

type ComposeBuild = { context?: string | undefined; dockerfile?: string | undefined; args?: Record<string, unknown> | undefined } & Record<
  string,
  unknown
>;

export const composeServiceSchema = z.looseObject({
  image: maybe(z.string()),
  build: composeBuildSchema.optional(),
  container_name: maybe(z.string()),
  ports: z.array(z.unknown()).catch([]),
  scale: maybe(z.number()),
  deploy: maybe(
    z.looseObject({
      replicas: maybe(z.number()),
      update_config: maybe(z.looseObject({ order: z.unknown() })),
    }),
  ),
  depends_on: maybe(z.union([mapping, z.array(z.unknown())])),
  "x-berth": z.unknown().optional(),
});

/** A service as written in the stack's own file: berth reads its `build:` (paths as written) and `x-berth` there. */
export const writtenServiceSchema = composeServiceSchema.pick({ build: true, "x-berth": true });

export const composeFileSchema = z.looseObject({
  services: mapping.catch({}),
  "x-berth": z.unknown().optional(),
});

export type ComposeService = z.output<typeof composeServiceSchema>;
export type WrittenService = z.output<typeof writtenServiceSchema>;
export type ComposeFile = z.output<typeof composeFileSchema>;
