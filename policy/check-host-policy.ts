// The host policy over a loaded desired state for one machine (or, for CI, every machine): the
// facts evaluation needs (image users, engine socket), then violations as located problems.
import { forMachine } from "../desired-state/desired-state.ts";
import type { DesiredState, ImageSpec, StackSpec } from "../desired-state/desired-state.ts";
import type { DockerEngine } from "../platform/docker-engine.ts";
import { evaluatePolicy } from "./evaluate-policy.ts";
import type { PolicyInput } from "./evaluate-policy.ts";
import { policyDenials } from "./policy-problems.ts";
import type { PolicyDenials } from "./policy-problems.ts";
import type { Policy } from "./policy-schema.ts";

/** What the host can tell beyond the desired state: its environment, and its engine's local images. */
export type HostFacts = { env?: NodeJS.ProcessEnv; engine?: Pick<DockerEngine, "inspectImage"> };

export async function checkHostPolicy(
  policy: Policy,
  state: DesiredState,
  machine: string | undefined,
  facts: HostFacts = {},
): Promise<PolicyDenials> {
  const input = policyInput(state, machine, facts.env ?? process.env);
  // Only `restricted` looks at users: the engine is asked only then.
  if (facts.engine && policy.level === "restricted")
    input.imageUsers = new Map([...(await localImageUsers(facts.engine, input.stacks)), ...(input.imageUsers ?? [])]);
  return policyDenials(evaluatePolicy(policy, input), state.root);
}

/** The config user of each local image a service runs without its own `user:` (an image not here yet has no fact). */
export async function localImageUsers(
  engine: Pick<DockerEngine, "inspectImage">,
  stacks: readonly Pick<StackSpec, "services">[],
): Promise<Map<string, string>> {
  const refs = new Set(
    stacks.flatMap((stack) => stack.services.filter((s) => s.image && !s.buildImage && !s.config["user"]).map((s) => s.image ?? "")),
  );
  const users = await Promise.all(
    [...refs].map(async (ref) => [ref, (await engine.inspectImage(ref).catch(() => undefined))?.user] as const),
  );
  return new Map(users.filter((entry): entry is readonly [string, string] => entry[1] !== undefined));
}

export function policyInput(state: DesiredState, machine: string | undefined, env: NodeJS.ProcessEnv = process.env): PolicyInput {
  const { stacks, images } = machine === undefined ? state : forMachine(state, machine);
  const dockerHost = env["DOCKER_HOST"];
  return {
    root: state.root,
    stacks,
    images,
    ...(state.registry ? { registry: state.registry } : {}),
    ...(state.registryMirrors ? { registryMirrors: state.registryMirrors } : {}),
    imageUsers: dockerfileUsers(state.images),
    ...(dockerHost?.startsWith("unix://") ? { engineSockets: [dockerHost.slice("unix://".length)] } : {}),
  };
}

/**
 * Berth image name → the USER its Dockerfile's final stage runs as (through berth parents); an
 * image whose user comes from an outside base image or a build variable is not known here.
 */
export function dockerfileUsers(images: readonly Pick<ImageSpec, "name" | "dockerfileFacts">[]): Map<string, string> {
  const byName = new Map(images.map((image) => [image.name, image]));
  const users = new Map<string, string>();
  const userOf = (name: string, seen: Set<string>): string | undefined => {
    const final = byName.get(name)?.dockerfileFacts.final;
    if (!final || seen.has(name)) return undefined;
    seen.add(name);
    const user = final.user ?? (byName.has(final.from) ? userOf(final.from, seen) : undefined);
    return user?.includes("$") ? undefined : user;
  };
  for (const image of images) {
    const user = userOf(image.name, new Set());
    if (user !== undefined) users.set(image.name, user);
  }
  return users;
}
