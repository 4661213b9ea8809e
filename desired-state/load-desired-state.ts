// Loads and validates a whole desired-state root (berth.yaml, profiles, images, stacks) into
// a DesiredState, collecting every problem with its file, line and field.
import { createHash } from "node:crypto";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { profileSchema, RESERVED_VARIABLES } from "../profiles/profile-schema.ts";
import type { Profile } from "../profiles/profile-schema.ts";
import { berthFileSchema } from "./berth-file-schema.ts";
import type { BerthFile } from "./berth-file-schema.ts";
import { unsupportedComposeFeatures } from "./compose-features.ts";
import { composeInputFiles } from "./compose-inputs.ts";
import { serviceExtensionSchema, stackExtensionSchema } from "./compose-extension-schema.ts";
import { DEFAULT_PLATFORM, DEFAULT_PRUNE, DEFAULT_RESYNC_SECONDS, DEFAULT_ROLLOUT } from "./desired-state.ts";
import type { DesiredState, ImageSpec, MachineSpec, RolloutSpec, ServiceSpec, StackSpec } from "./desired-state.ts";
import { dockerfileFacts } from "./dockerfile-facts.ts";
import { topologicalOrder } from "./image-graph.ts";
import { imageFileSchema } from "./image-file-schema.ts";
import type { ImageFile } from "./image-file-schema.ts";
import type { ComposeNormalizer } from "./normalize-compose.ts";
import type { Problem } from "./problem.ts";
import { issuesToProblems, parseYamlText, readDocument, readFileLimited } from "./read-document.ts";
import type { ParsedDocument } from "./read-document.ts";
import { checkComposeReferences } from "./compose-references.ts";
import { contentRevision, gitRevision } from "./revision.ts";
import { resolveInside } from "./safe-path.ts";
import type { RolloutFileSpec, UpdatePolicy } from "./berth-file-schema.ts";

export type LoadOptions = {
  /** Normalises compose files; without it stacks are validated from their raw YAML only. */
  compose?: ComposeNormalizer;
  /** Known revision (e.g. from git sync); otherwise read from git or the content. */
  revision?: string;
};

export type LoadResult = { ok: true; state: DesiredState } | { ok: false; problems: Problem[]; revision?: string };

/** The compose `build` keys berth hands to buildx; any other would be silently ignored, so it is refused. */
const BUILD_KEYS_PASSED_ON: ReadonlySet<string> = new Set(["context", "dockerfile", "args"]);

/** Bounds on one desired state: entries per folder (profiles, images, stacks) and bytes berth reads. */
export const MAX_ENTRIES_PER_FOLDER = 1000;
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
const TOP_LEVEL_FOLDERS = ["profiles", "images", "stacks"] as const;

const COMPOSE_FILE_NAMES = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];

type RawImage = { name: string; file: ImageFile; relFile: string; doc: ParsedDocument; dir: string };
type RawStack = { name: string; dir: string; composePath: string; relFile: string; text: string; doc: ParsedDocument };

export async function loadDesiredState(rootDir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const problems: Problem[] = [];
  let root: string;
  try {
    root = await realpath(rootDir);
  } catch {
    return { ok: false, problems: [{ file: rootDir, field: "", message: "desired-state directory not found" }] };
  }
  const contents: Array<[string, string]> = [];
  const refused = async (): Promise<LoadResult> => ({
    ok: false,
    problems,
    revision: options.revision ?? (await gitRevision(root)) ?? contentRevision(contents),
  });

  // Top-level entries are the repo's own: a symlink there (to /etc, or another tree) is refused;
  // so is a desired state too large to check in bounded time.
  problems.push(...(await symlinkedEntries(root)), ...(await oversizedFolders(root)));
  if (problems.length > 0) return refused();

  // berth.yaml
  const berthRead = await readDocument(join(root, "berth.yaml"), "berth.yaml", berthFileSchema);
  if (!berthRead.ok) problems.push(...berthRead.problems);
  const berth: BerthFile | undefined = berthRead.ok ? berthRead.value : undefined;

  // profiles/*.json
  const profiles: Record<string, Profile> = {};
  for (const entry of await listDir(join(root, "profiles"))) {
    if (!entry.endsWith(".json")) continue;
    const relFile = `profiles/${entry}`;
    const parsed = await readParsed(root, join(root, relFile), relFile, "json", problems, contents);
    if (!parsed) continue;
    const result = profileSchema.safeParse(parsed.doc.value);
    if (!result.success) {
      problems.push(...issuesToProblems(result.error.issues, relFile, parsed.doc));
      continue;
    }
    for (const reserved of RESERVED_VARIABLES) {
      if (reserved in result.data)
        problems.push({
          file: relFile,
          line: parsed.doc.lineOf([reserved]),
          field: reserved,
          message: "is set by berth itself and cannot be in a profile",
        });
    }
    profiles[basename(entry, ".json")] = result.data;
  }

  const machineNames = berth ? Object.keys(berth.machines) : [];
  if (berth && berthRead.ok) {
    for (const [machine, spec] of Object.entries(berth.machines)) {
      if (!profiles[spec.profile]) {
        problems.push({
          file: "berth.yaml",
          line: berthRead.doc.lineOf(["machines", machine, "profile"]),
          field: `machines.${machine}.profile`,
          message: `profile "${spec.profile}" not found (expected profiles/${spec.profile}.json)`,
        });
      }
    }
  }

  // images/<name>/image.yaml
  const rawImages: RawImage[] = [];
  for (const name of await listDir(join(root, "images"))) {
    const dir = join(root, "images", name);
    if (!(await isDirectory(dir))) continue;
    const relFile = `images/${name}/image.yaml`;
    const parsed = await readParsed(root, join(dir, "image.yaml"), relFile, "yaml", problems, contents);
    if (!parsed) continue;
    const result = imageFileSchema.safeParse(parsed.doc.value ?? {});
    if (!result.success) {
      problems.push(...issuesToProblems(result.error.issues, relFile, parsed.doc));
      continue;
    }
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name))
      problems.push({
        file: relFile,
        field: "",
        message: `image directory name "${name}" must be lowercase letters, digits, "-", "_" or "."`,
      });
    rawImages.push({ name, file: result.data, relFile, doc: parsed.doc, dir });
  }

  // stacks/<name>/compose.yaml
  const rawStacks: RawStack[] = [];
  for (const name of await listDir(join(root, "stacks"))) {
    const dir = join(root, "stacks", name);
    if (!(await isDirectory(dir))) continue;
    const fileName = await firstExisting(dir, COMPOSE_FILE_NAMES);
    if (!fileName) {
      problems.push({ file: `stacks/${name}`, field: "", message: `no compose file (expected one of ${COMPOSE_FILE_NAMES.join(", ")})` });
      continue;
    }
    const relFile = `stacks/${name}/${fileName}`;
    const parsed = await readParsed(root, join(dir, fileName), relFile, "yaml", problems, contents);
    if (!parsed) continue;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name))
      problems.push({
        file: relFile,
        field: "",
        message: `stack directory name "${name}" must be a valid compose project name (lowercase letters, digits, "-", "_")`,
      });
    rawStacks.push({ name, dir, composePath: join(dir, fileName), relFile, text: parsed.text, doc: parsed.doc });
  }

  const totalBytes = contents.reduce((sum, [, text]) => sum + Buffer.byteLength(text), 0);
  if (totalBytes > MAX_TOTAL_BYTES) {
    problems.push({
      file: ".",
      field: "",
      message: `berth.yaml, profiles, images and stacks add up to ${(totalBytes / 1024 / 1024).toFixed(1)} MiB, more than the ${MAX_TOTAL_BYTES / 1024 / 1024} MiB limit`,
    });
    return refused();
  }
  const rolloutDefaults = mergeRollout(DEFAULT_ROLLOUT, berth?.rollout);
  const fleetPrune = {
    ...DEFAULT_PRUNE,
    ...definedOnly(berth?.prune, (p) => ({
      schedule: p.schedule,
      keep: p.keep,
      minAgeSeconds: p.minAge,
      foreign: p.foreign,
      buildCacheMaxGiB: p.buildCacheMaxGiB,
    })),
  };

  // Stacks: x-berth validation on the raw YAML (with lines), then compose normalisation.
  const berthImageNames = new Set(rawImages.map((image) => image.name));
  const stacks: StackSpec[] = [];
  const serviceImages: Array<{
    spec: Omit<ImageSpec, "dockerfileFacts" | "dockerfile" | "context"> & {
      contextNamed: string;
      dockerfileNamed: string;
      baseDir: string;
      relFile: string;
    };
  }> = [];
  // Compose normalisation is one process per stack: run them side by side.
  const loaded = await Promise.all(
    rawStacks.map((raw) =>
      loadStack(raw, { root, machineNames, rolloutDefaults, updateDefault: berth?.update ?? "pinned", compose: options.compose, problems }),
    ),
  );
  for (const [index, raw] of rawStacks.entries()) {
    const stack = loaded[index];
    if (!stack) continue;
    stacks.push(stack.spec);
    for (const build of stack.builds) {
      serviceImages.push({
        spec: {
          name: build.imageName,
          declaredIn: raw.relFile,
          origin: { kind: "service", stack: raw.name, service: build.service },
          args: build.args,
          machines: stack.spec.machines === "all" ? machineNames : stack.spec.machines,
          platform: DEFAULT_PLATFORM,
          push: berth?.push ?? true,
          source: build.source,
          budgets: build.budgets,
          ...(build.baseline ? { baseline: build.baseline } : {}),
          contextNamed: build.context,
          dockerfileNamed: build.dockerfile,
          baseDir: raw.dir,
          relFile: raw.relFile,
        },
      });
    }
  }

  // Images: resolve paths safely, read Dockerfiles, compute facts.
  const allImageNames = new Set([...berthImageNames, ...serviceImages.map((s) => s.spec.name)]);
  const images: ImageSpec[] = [];
  for (const raw of rawImages) {
    const machines = raw.file.machines ?? machineNames;
    raw.file.machines?.forEach((machine, index) => {
      if (machineNames.length > 0 && !machineNames.includes(machine))
        problems.push({
          file: raw.relFile,
          line: raw.doc.lineOf(["machines", index]),
          field: `machines.${index}`,
          message: `unknown machine "${machine}" (berth.yaml machines: ${machineNames.join(", ")})`,
        });
    });
    const image = await resolveImage(
      {
        name: raw.name,
        declaredIn: raw.relFile,
        origin: { kind: "image" },
        args: raw.file.args ?? {},
        machines,
        platform: raw.file.platform ?? DEFAULT_PLATFORM,
        push: raw.file.push ?? berth?.push ?? true,
        source: raw.file.source ?? "auto",
        budgets: raw.file.budgets ?? {},
        ...(raw.file.baseline ? { baseline: raw.file.baseline } : {}),
      },
      {
        root,
        baseDir: raw.dir,
        contextNamed: raw.file.context ?? ".",
        dockerfileNamed: raw.file.dockerfile ?? "Dockerfile",
        relFile: raw.relFile,
        lineOf: (path) => raw.doc.lineOf(path),
        allImageNames,
        problems,
        contents,
      },
    );
    if (image) images.push(image);
  }
  for (const { spec } of serviceImages) {
    if (berthImageNames.has(spec.name)) {
      problems.push({
        file: spec.relFile,
        field: `services.${spec.origin.kind === "service" ? spec.origin.service : spec.name}.build`,
        message: `builds an image named "${spec.name}", which images/${spec.name} already defines`,
      });
      continue;
    }
    const { contextNamed, dockerfileNamed, baseDir, relFile, ...rest } = spec;
    const image = await resolveImage(rest, {
      root,
      baseDir,
      contextNamed,
      dockerfileNamed,
      relFile,
      lineOf: () => undefined,
      allImageNames,
      problems,
      contents,
    });
    if (image) images.push(image);
  }

  // The graph: cycles, and machines inherited from children.
  const order = topologicalOrder(images);
  if (!order.ok) {
    const first = images.find((image) => image.name === order.cycle[0]);
    problems.push({ file: first?.declaredIn ?? "images", field: "FROM", message: `image cycle: ${order.cycle.join(" → ")}` });
  } else {
    propagateMachines(images, order.order);
    images.sort((a, b) => order.order.indexOf(a.name) - order.order.indexOf(b.name));
  }

  const revision = options.revision ?? (await gitRevision(root)) ?? contentRevision(contents);
  if (problems.length > 0 || !berth) return { ok: false, problems: dedupe(problems), revision };

  const machines: Record<string, MachineSpec> = {};
  for (const [name, spec] of Object.entries(berth.machines)) {
    const override = definedOnly(spec.prune, (p) => ({
      schedule: p.schedule,
      keep: p.keep,
      minAgeSeconds: p.minAge,
      foreign: p.foreign,
      buildCacheMaxGiB: p.buildCacheMaxGiB,
    }));
    machines[name] = {
      name,
      profile: spec.profile,
      hostnames: spec.hostnames ?? [],
      ...(spec.gpus === undefined ? {} : { gpus: spec.gpus }),
      prune: { ...fleetPrune, ...override },
    };
  }
  return {
    ok: true,
    state: {
      root,
      revision,
      ...(berth.registry ? { registry: berth.registry } : {}),
      push: berth.push ?? true,
      machines,
      profiles,
      images,
      stacks,
      rollout: rolloutDefaults,
      resyncSeconds: berth.resync ?? DEFAULT_RESYNC_SECONDS,
      allowEmpty: berth.allowEmpty ?? false,
    },
  };
}

type StackContext = {
  root: string;
  machineNames: string[];
  rolloutDefaults: RolloutSpec;
  updateDefault: UpdatePolicy;
  compose: ComposeNormalizer | undefined;
  problems: Problem[];
};
type ServiceBuild = {
  service: string;
  imageName: string;
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  source: ImageSpec["source"];
  budgets: ImageSpec["budgets"];
  baseline?: ImageSpec["baseline"];
};

async function loadStack(raw: RawStack, ctx: StackContext): Promise<{ spec: StackSpec; builds: ServiceBuild[] } | undefined> {
  const { problems } = ctx;
  const before = problems.length;
  const value = raw.doc.value;
  if (!isRecord(value)) {
    problems.push({ file: raw.relFile, field: "", message: "a compose file must be a mapping with services" });
    return undefined;
  }
  const stackExt = stackExtensionSchema.safeParse(value["x-berth"] ?? {});
  if (!stackExt.success) problems.push(...issuesToProblems(stackExt.error.issues, raw.relFile, raw.doc, ["x-berth"]));
  const stackMachines = stackExt.success ? stackExt.data.machines : undefined;
  stackMachines?.forEach((machine, index) => {
    if (ctx.machineNames.length > 0 && !ctx.machineNames.includes(machine))
      problems.push({
        file: raw.relFile,
        line: raw.doc.lineOf(["x-berth", "machines", index]),
        field: `x-berth.machines.${index}`,
        message: `unknown machine "${machine}" (berth.yaml machines: ${ctx.machineNames.join(", ")})`,
      });
  });
  const rawServices = isRecord(value["services"]) ? value["services"] : {};
  if (Object.keys(rawServices).length === 0)
    problems.push({
      file: raw.relFile,
      line: raw.doc.lineOf(["services"]),
      field: "services",
      message: "a stack needs at least one service",
    });
  const extensions = new Map<string, ReturnType<typeof serviceExtensionSchema.parse>>();
  for (const [service, body] of Object.entries(rawServices)) {
    const ext = serviceExtensionSchema.safeParse(isRecord(body) ? (body["x-berth"] ?? {}) : {});
    if (!ext.success) problems.push(...issuesToProblems(ext.error.issues, raw.relFile, raw.doc, ["services", service, "x-berth"]));
    else extensions.set(service, ext.data);
  }
  if (problems.length > before) return undefined;

  await checkComposeReferences(ctx.root, { abs: raw.composePath, rel: raw.relFile, doc: raw.doc }, problems);
  if (problems.length > before) return undefined;

  let model: Record<string, unknown> = value;
  if (ctx.compose) {
    const normalized = await ctx.compose.normalize({
      project: raw.name,
      root: ctx.root,
      directory: raw.dir,
      file: raw.composePath,
      text: raw.text,
      siblingsDigest: await siblingsDigest(ctx.root, raw.dir, raw.composePath, value),
    });
    if (!normalized.ok) {
      problems.push({
        file: raw.relFile,
        field: "",
        message:
          normalized.reason === "TimedOut"
            ? `could not be checked: ${normalized.message} (the host is overloaded; the file itself may be fine)`
            : `docker compose rejects it: ${normalized.message}`,
      });
      return undefined;
    }
    model = normalized.model;
    problems.push(...unsupportedComposeFeatures(model, { relFile: raw.relFile, lineOf: raw.doc.lineOf }));
  }
  const services: ServiceSpec[] = [];
  const builds: ServiceBuild[] = [];
  const normalizedServices = isRecord(model["services"]) ? model["services"] : {};
  for (const [service, body] of Object.entries(normalizedServices)) {
    if (!isRecord(body)) continue;
    const ext = extensions.get(service) ?? {};
    const line = raw.doc.lineOf(["services", service]);
    const rollout = mergeRollout(ctx.rolloutDefaults, ext.rollout);
    const updateOrder =
      isRecord(body["deploy"]) && isRecord(body["deploy"]["update_config"]) ? body["deploy"]["update_config"]["order"] : undefined;
    if (!ext.rollout?.strategy && updateOrder === "start-first") rollout.strategy = "start-first";
    const ports = Array.isArray(body["ports"]) ? body["ports"] : [];
    const hasFixedHostPort = ports.some((port) =>
      isRecord(port) ? port["published"] !== undefined && port["published"] !== "" : typeof port === "string" && /:\d+:?/.test(port),
    );
    const containerName = typeof body["container_name"] === "string" ? body["container_name"] : undefined;
    if (rollout.strategy === "start-first" && (hasFixedHostPort || containerName)) {
      problems.push({
        file: raw.relFile,
        line,
        field: `services.${service}.x-berth.rollout.strategy`,
        message: `start-first needs two containers side by side; remove the fixed host port or container_name, or use recreate`,
      });
    }
    const replicas =
      isRecord(body["deploy"]) && typeof body["deploy"]["replicas"] === "number"
        ? body["deploy"]["replicas"]
        : typeof body["scale"] === "number"
          ? body["scale"]
          : 1;
    if (replicas !== 1) {
      problems.push({
        file: raw.relFile,
        line,
        field: `services.${service}.${typeof body["scale"] === "number" ? "scale" : "deploy.replicas"}`,
        message: `berth runs exactly one container per service (its swaps, health gate and rollback follow that container); got ${replicas}: declare one service per instance`,
      });
    }
    const dependsOn = isRecord(body["depends_on"])
      ? Object.keys(body["depends_on"])
      : Array.isArray(body["depends_on"])
        ? body["depends_on"].filter((d): d is string => typeof d === "string")
        : [];
    const spec: ServiceSpec = {
      name: service,
      stack: raw.name,
      config: body,
      rollout,
      selfHeal: ext.selfHeal ?? true,
      source: ext.source ?? "auto",
      dependsOn,
      hasFixedHostPort,
      ...(ext.gpu ? { gpu: ext.gpu } : {}),
      ...(containerName ? { containerName } : {}),
    };
    const build = body["build"];
    if (build !== undefined) {
      const buildRecord = typeof build === "string" ? { context: build } : isRecord(build) ? build : {};
      for (const key of Object.keys(buildRecord).filter((k) => !BUILD_KEYS_PASSED_ON.has(k))) {
        problems.push({
          file: raw.relFile,
          line: raw.doc.lineOf(["services", service, "build", key]),
          field: `services.${service}.build.${key}`,
          message: `berth builds with context, dockerfile and args only and does not pass ${key} on to BuildKit; remove it`,
        });
      }
      const imageName = service.replace(/_/g, "-").toLowerCase();
      spec.buildImage = imageName;
      const rawBuild = isRecord(rawServices[service]) ? rawServices[service]["build"] : undefined;
      const rawContext =
        typeof rawBuild === "string" ? rawBuild : isRecord(rawBuild) && typeof rawBuild["context"] === "string" ? rawBuild["context"] : ".";
      const rawDockerfile = isRecord(rawBuild) && typeof rawBuild["dockerfile"] === "string" ? rawBuild["dockerfile"] : "Dockerfile";
      const args = isRecord(buildRecord["args"])
        ? Object.fromEntries(Object.entries(buildRecord["args"]).filter((e): e is [string, string] => typeof e[1] === "string"))
        : {};
      builds.push({
        service,
        imageName,
        context: rawContext,
        dockerfile: join(rawContext, rawDockerfile),
        args,
        source: ext.source ?? "build",
        budgets: ext.budgets ?? {},
        ...(ext.baseline ? { baseline: ext.baseline } : {}),
      });
      if (ext.update)
        problems.push({
          file: raw.relFile,
          line: raw.doc.lineOf(["services", service, "x-berth", "update"]),
          field: `services.${service}.x-berth.update`,
          message: "update applies to images berth does not build; berth rebuilds this one when its inputs change",
        });
    } else if (typeof body["image"] === "string") {
      spec.image = body["image"];
      spec.update = ext.update ?? ctx.updateDefault;
    } else {
      problems.push({ file: raw.relFile, line, field: `services.${service}`, message: "needs an image or a build" });
    }
    services.push(spec);
  }
  if (problems.length > before) return undefined;
  return {
    spec: {
      name: raw.name,
      dir: raw.dir,
      composeFile: raw.composePath,
      machines: stackMachines ?? "all",
      prune: stackExt.success ? (stackExt.data.prune ?? false) : false,
      services,
      model,
    },
    builds,
  };
}

type ImageContext = {
  root: string;
  baseDir: string;
  contextNamed: string;
  dockerfileNamed: string;
  relFile: string;
  lineOf: (path: readonly PropertyKey[]) => number | undefined;
  allImageNames: ReadonlySet<string>;
  problems: Problem[];
  contents: Array<[string, string]>;
};

async function resolveImage(
  base: Omit<ImageSpec, "context" | "dockerfile" | "dockerfileFacts">,
  ctx: ImageContext,
): Promise<ImageSpec | undefined> {
  const context = await resolveInside(ctx.root, ctx.baseDir, ctx.contextNamed);
  if (!context.ok) {
    ctx.problems.push({
      file: ctx.relFile,
      line: ctx.lineOf(["context"]),
      field: base.origin.kind === "service" ? `services.${base.origin.service}.build.context` : "context",
      message: context.message,
    });
    return undefined;
  }
  const dockerfileBase = base.origin.kind === "service" ? ctx.baseDir : context.path;
  const dockerfile = await resolveInside(ctx.root, dockerfileBase, ctx.dockerfileNamed);
  if (!dockerfile.ok) {
    ctx.problems.push({
      file: ctx.relFile,
      line: ctx.lineOf(["dockerfile"]),
      field: base.origin.kind === "service" ? `services.${base.origin.service}.build.dockerfile` : "dockerfile",
      message: dockerfile.message.replace("does not exist", "does not exist (missing Dockerfile)"),
    });
    return undefined;
  }
  const relDockerfile = relative(ctx.root, dockerfile.path);
  const read = await readFileLimited(dockerfile.path, relDockerfile, ctx.root);
  if (!read.ok) {
    ctx.problems.push(...read.problems);
    return undefined;
  }
  ctx.contents.push([relDockerfile, read.text]);
  const facts = dockerfileFacts(read.text, new Set([...ctx.allImageNames].filter((name) => name !== base.name)));
  if (facts.fromRefs.length === 0)
    ctx.problems.push({ file: relDockerfile, field: "FROM", message: "the Dockerfile has no FROM instruction" });
  // A self-reference is a cycle of one.
  if (facts.fromRefs.includes(base.name))
    ctx.problems.push({ file: relDockerfile, field: "FROM", message: `image cycle: ${base.name} → ${base.name}` });
  return { ...base, context: context.path, dockerfile: dockerfile.path, dockerfileFacts: facts };
}

function propagateMachines(images: ImageSpec[], order: string[]): void {
  const byName = new Map(images.map((image) => [image.name, image]));
  // Children come after parents in `order`; walk it backwards so needs flow up the chain.
  for (const name of [...order].reverse()) {
    const image = byName.get(name);
    if (!image) continue;
    for (const parent of image.dockerfileFacts.parents) {
      const parentImage = byName.get(parent);
      if (!parentImage) continue;
      parentImage.machines = [...new Set([...parentImage.machines, ...image.machines])];
    }
  }
}

function mergeRollout(base: RolloutSpec, file: RolloutFileSpec | undefined): RolloutSpec {
  return {
    strategy: file?.strategy ?? base.strategy,
    healthTimeoutSeconds: file?.healthTimeout ?? base.healthTimeoutSeconds,
    monitorSeconds: file?.monitor ?? base.monitorSeconds,
    history: file?.history ?? base.history,
  };
}

function definedOnly<T, R extends object>(value: T | undefined, map: (value: T) => R): Partial<R> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(map(value)).filter(([, v]) => v !== undefined)) as Partial<R>;
}

/** Reads one file within the limits and parses it (JSON files must be strict JSON); problems are collected. */
async function readParsed(
  root: string,
  absPath: string,
  relFile: string,
  format: "json" | "yaml",
  problems: Problem[],
  contents: Array<[string, string]>,
): Promise<{ text: string; doc: ParsedDocument } | undefined> {
  const read = await readFileLimited(absPath, relFile, root);
  if (!read.ok) {
    problems.push(...read.problems);
    return undefined;
  }
  contents.push([relFile, read.text]);
  if (format === "json") {
    try {
      JSON.parse(read.text);
    } catch (error) {
      problems.push({ file: relFile, field: "", message: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` });
      return undefined;
    }
  }
  // Valid JSON is valid YAML; the YAML parser gives line positions either way.
  const parsed = parseYamlText(read.text, relFile);
  if (!parsed.ok) {
    problems.push(...parsed.problems);
    return undefined;
  }
  return { text: read.text, doc: parsed.doc };
}

/** Digest of the small regular files beside a compose file (.env) and those it reads (env_file, include, extends), which can change its model. */
async function siblingsDigest(root: string, dir: string, composePath: string, model: unknown): Promise<string> {
  const hash = createHash("sha256");
  const beside = (await listDir(dir)).map((name) => join(dir, name));
  for (const path of [...new Set([...beside, ...(await composeInputFiles(composePath, model))])]) {
    const name = relative(dir, path);
    if (path === composePath) continue;
    // Regular files inside the root only (a symlink may point at one), within the size limit.
    const read = await readFileLimited(path, name, root);
    if (read.ok) hash.update(name).update("\0").update(read.text).update("\0");
  }
  return hash.digest("hex");
}

/** berth.yaml, the three folders and their entries must not be symlinks. */
async function symlinkedEntries(root: string): Promise<Problem[]> {
  const paths = ["berth.yaml", ...TOP_LEVEL_FOLDERS];
  for (const folder of TOP_LEVEL_FOLDERS) {
    if (!(await isSymlink(join(root, folder)))) paths.push(...(await listDir(join(root, folder))).map((name) => `${folder}/${name}`));
  }
  const linked = await Promise.all(paths.map((path) => isSymlink(join(root, path))));
  return paths
    .filter((_, index) => linked[index])
    .map((file) => ({
      file,
      field: "",
      message:
        "is a symlink; berth.yaml, profiles, images and stacks and their entries must be real files and folders of the desired state",
    }));
}

async function oversizedFolders(root: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const folder of TOP_LEVEL_FOLDERS) {
    const count = (await listDir(join(root, folder))).length;
    if (count > MAX_ENTRIES_PER_FOLDER)
      problems.push({ file: folder, field: "", message: `has ${count} entries, more than the limit of ${MAX_ENTRIES_PER_FOLDER}` });
  }
  return problems;
}

async function isSymlink(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path)
    .then((s) => s.isDirectory())
    .catch(() => false);
}

async function firstExisting(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    if (
      await stat(join(dir, name))
        .then(() => true)
        .catch(() => false)
    )
      return name;
  }
  return undefined;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}|${p.line}|${p.field}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
