// One compose service as berth runs it: its ServiceSpec with every derived fact computed once
// (rollout strategy, fixed host port, the image it builds or runs), and the service rules
// berth enforces (start-first needs no fixed port or container_name, one replica, build keys).
import { join } from "node:path";
import type { UpdatePolicy } from "./berth-file-schema.ts";
import { composeServiceSchema } from "./compose-file-schema.ts";
import type { ImageSpec, RolloutSpec, ServiceSpec } from "./desired-state.ts";
import type { RawService } from "./parse-documents.ts";
import type { Problem } from "./problem.ts";
import type { ParsedDocument } from "./read-document.ts";
import { unless } from "./result.ts";
import type { Result } from "./result.ts";
import { rolloutSpec } from "./rollout-spec.ts";
import { isRecord } from "../platform/is-record.ts";

/** The compose `build` keys berth hands to buildx; any other would be silently ignored, so it is refused. */
const BUILD_KEYS_PASSED_ON: ReadonlySet<string> = new Set(["context", "dockerfile", "args"]);

/** The image a service's `build:` makes: its context and Dockerfile as written, relative to the stack's folder. */
export type ServiceBuild = {
  service: string;
  imageName: string;
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  source: ImageSpec["source"];
  budgets: ImageSpec["budgets"];
  baseline?: ImageSpec["baseline"];
  scan?: ImageSpec["scan"];
};

export type ServiceInput = {
  stack: string;
  name: string;
  /** The service as compose normalised it (or as written, without a normaliser). */
  config: Record<string, unknown>;
  /** The service as written in the stack's own compose file, if it is there. */
  raw: RawService | undefined;
  rolloutDefaults: RolloutSpec;
  updateDefault: UpdatePolicy;
  file: string;
  doc: ParsedDocument;
};

export function deriveService(input: ServiceInput): Result<{ spec: ServiceSpec; build?: ServiceBuild }> {
  const { name, file, doc } = input;
  const body = composeServiceSchema.parse(input.config);
  const ext = input.raw?.extension ?? {};
  const line = doc.lineOf(["services", name]);
  const problems: Problem[] = [];
  const rollout = rolloutSpec(input.rolloutDefaults, ext.rollout, body.deploy?.update_config?.order);
  const hasFixedHostPort = body.ports.some((port) =>
    isRecord(port) ? port["published"] !== undefined && port["published"] !== "" : typeof port === "string" && /:\d+:?/.test(port),
  );
  const containerName = body.container_name;
  if (rollout.strategy === "start-first" && (hasFixedHostPort || containerName))
    problems.push({
      file,
      line,
      field: `services.${name}.x-berth.rollout.strategy`,
      message: `start-first needs two containers side by side; remove the fixed host port or container_name, or use recreate`,
    });
  const replicas = body.deploy?.replicas ?? body.scale ?? 1;
  if (replicas !== 1)
    problems.push({
      file,
      line,
      field: `services.${name}.${body.scale !== undefined ? "scale" : "deploy.replicas"}`,
      message:
        `berth runs exactly one container per service (its swaps, health gate and rollback follow that container); ` +
        `got ${replicas}: declare one service per instance`,
    });
  const dependsOn = Array.isArray(body.depends_on)
    ? body.depends_on.filter((d): d is string => typeof d === "string")
    : Object.keys(body.depends_on ?? {});
  const spec: ServiceSpec = {
    name,
    stack: input.stack,
    config: input.config,
    rollout,
    selfHeal: ext.selfHeal ?? true,
    source: ext.source ?? "auto",
    dependsOn,
    hasFixedHostPort,
    ...(ext.gpu ? { gpu: ext.gpu } : {}),
    ...(ext.verify ? { verify: ext.verify } : {}),
    ...(containerName ? { containerName } : {}),
  };
  let build: ServiceBuild | undefined;
  if (body.build !== undefined) {
    for (const key of Object.keys(body.build).filter((k) => !BUILD_KEYS_PASSED_ON.has(k)))
      problems.push({
        file,
        line: doc.lineOf(["services", name, "build", key]),
        field: `services.${name}.build.${key}`,
        message: `berth builds with context, dockerfile and args only and does not pass ${key} on to BuildKit; remove it`,
      });
    spec.buildImage = name.replace(/_/g, "-").toLowerCase();
    // Context and Dockerfile as written: compose's normalised ones are absolute paths.
    const written = input.raw?.body?.build;
    const context = written?.context ?? ".";
    build = {
      service: name,
      imageName: spec.buildImage,
      context,
      dockerfile: join(context, written?.dockerfile ?? "Dockerfile"),
      args: Object.fromEntries(Object.entries(body.build.args ?? {}).filter((e): e is [string, string] => typeof e[1] === "string")),
      source: ext.source ?? "build",
      budgets: ext.budgets ?? {},
      ...(ext.baseline ? { baseline: ext.baseline } : {}),
      ...(ext.scan ? { scan: ext.scan } : {}),
    };
    if (ext.update)
      problems.push({
        file,
        line: doc.lineOf(["services", name, "x-berth", "update"]),
        field: `services.${name}.x-berth.update`,
        message: "update applies to images berth does not build; berth rebuilds this one when its inputs change",
      });
  } else if (body.image !== undefined) {
    spec.image = body.image;
    spec.update = ext.update ?? input.updateDefault;
    if (ext.scan) spec.scan = ext.scan;
  } else {
    problems.push({ file, line, field: `services.${name}`, message: "needs an image or a build" });
  }
  return unless(problems, () => ({ spec, ...(build ? { build } : {}) }));
}
