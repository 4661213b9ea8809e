import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DesiredState, ImageSpec } from "../../desired-state/desired-state.ts";
import { DEFAULT_PRUNE, DEFAULT_ROLLOUT } from "../../desired-state/desired-state.ts";
import { dockerfileFacts } from "../../desired-state/dockerfile-facts.ts";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import { computeImageInputs, resolveImageTags } from "./image-inputs.ts";

let root: string;
const names = new Set(["base", "gpu", "app"]);
const dockerfiles: Record<string, string> = {
  base: "FROM busybox\nRUN true\n",
  gpu: "FROM base\nARG CUDA_ARCH\nRUN echo $CUDA_ARCH\n",
  app: "FROM gpu\nCOPY . /app\n",
};

function spec(name: string): ImageSpec {
  const text = dockerfiles[name] ?? "";
  return {
    name,
    declaredIn: `images/${name}/image.yaml`,
    origin: { kind: "image" },
    context: join(root, "images", name),
    dockerfile: join(root, "images", name, "Dockerfile"),
    args: {},
    machines: ["a", "b"],
    platform: "linux/amd64",
    push: true,
    source: "auto",
    budgets: {},
    dockerfileFacts: dockerfileFacts(text, new Set([...names].filter((n) => n !== name))),
  };
}

function state(profiles: DesiredState["profiles"], images = ["base", "gpu", "app"]): DesiredState {
  return {
    root,
    revision: "abcdef0123456789",
    registry: "ghcr.io/acme",
    push: true,
    machines: {
      a: { name: "a", profile: "pa", hostnames: [], prune: DEFAULT_PRUNE },
      b: { name: "b", profile: "pb", hostnames: [], prune: DEFAULT_PRUNE },
    },
    profiles,
    images: images.map(spec),
    stacks: [],
    rollout: DEFAULT_ROLLOUT,
    resyncSeconds: 300,
    allowEmpty: false,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-inputs-"));
  for (const [name, text] of Object.entries(dockerfiles)) {
    await mkdir(join(root, "images", name), { recursive: true });
    await writeFile(join(root, "images", name, "Dockerfile"), text);
  }
  await writeFile(join(root, "images", "app", "main.py"), "print('hi')\n");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("computeImageInputs", () => {
  const profiles = { pa: { CUDA_ARCH: "8.9", OTHER: "1" }, pb: { CUDA_ARCH: "8.6", OTHER: "2" } };

  it("shares profile-independent images between machines and suffixes the rest with the machine", async () => {
    const a = resolveImageTags(await computeImageInputs(state(profiles), "a"));
    const b = resolveImageTags(await computeImageInputs(state(profiles), "b"));
    expect(a.get("base")).toBe(b.get("base"));
    expect(a.get("base")).toMatch(/^ghcr\.io\/acme\/base:[0-9a-f]{12}$/);
    expect(a.get("gpu")).toMatch(/-a$/);
    expect(b.get("gpu")).toMatch(/-b$/);
    expect(a.get("app")).toMatch(/-a$/);
  });

  it("passes only the profile variables the Dockerfile declares", async () => {
    const inputs = await computeImageInputs(state(profiles), "a");
    expect(inputs.find((i) => i.name === "gpu")?.buildArgs).toEqual({ CUDA_ARCH: "8.9" });
    expect(inputs.find((i) => i.name === "base")?.buildArgs).toEqual({});
  });

  it("gives a child a new hash when its parent's inputs change (Nix-style), before anything is built", async () => {
    const before = resolveImageTags(await computeImageInputs(state(profiles), "a"));
    const after = resolveImageTags(await computeImageInputs(state({ ...profiles, pa: { CUDA_ARCH: "9.0", OTHER: "1" } }), "a"));
    expect(after.get("base")).toBe(before.get("base"));
    expect(after.get("gpu")).not.toBe(before.get("gpu"));
    expect(after.get("app")).not.toBe(before.get("app"));
    const otherOnly = resolveImageTags(await computeImageInputs(state({ ...profiles, pa: { CUDA_ARCH: "8.9", OTHER: "changed" } }), "a"));
    expect(otherOnly).toEqual(before);
  });

  it("reports a missing parent with its chain and stalls nothing else", async () => {
    const s = state(profiles);
    s.images = s.images.filter((image) => image.name !== "base");
    const inputs = await computeImageInputs(s, "a");
    expect(inputs.find((i) => i.name === "gpu")?.problem).toMatchObject({ reason: "MissingParent" });
    expect(inputs.find((i) => i.name === "app")?.problem?.reason).toBe("ParentStalled");
  });

  it("reports a dependency cycle with its chain", async () => {
    const s = state(profiles);
    const base = s.images.find((image) => image.name === "base");
    if (base) base.dockerfileFacts = { ...base.dockerfileFacts, parents: ["app"] };
    const inputs = await computeImageInputs(s, "a");
    expect(inputs.find((i) => i.name === "base")?.problem).toMatchObject({ reason: "DependencyCycle" });
    expect(inputs.find((i) => i.name === "base")?.problem?.message).toMatch(/→/);
  });
});

describe("the example fleet's GPU family", () => {
  const fleet = fileURLToPath(new URL("../../examples/fleet", import.meta.url));

  it("receives CUDA_ARCH from the machine profile and TORCH_CUDA_ARCH_LIST from image.yaml, tagged per machine", async () => {
    const loaded = await loadDesiredState(fleet, { revision: "1234567890abcdef" });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const inputs = await computeImageInputs(loaded.state, "mainpc");
    const gpu = inputs.find((i) => i.name === "base-gpu");
    const torch = inputs.find((i) => i.name === "family-torch");
    const python = inputs.find((i) => i.name === "base-python");
    expect(gpu?.buildArgs).toMatchObject({ CUDA_ARCH: "8.9", TORCH_CUDA_ARCH_LIST: "8.9;8.6" });
    expect(gpu?.tag).toMatch(/\/base-gpu:[0-9a-f]{12}-mainpc$/);
    expect(torch?.tag).toMatch(/-mainpc$/);
    expect(python?.tag).toMatch(/\/base-python:[0-9a-f]{12}$/);
    const pc2 = await computeImageInputs(loaded.state, "pc2");
    expect(pc2.find((i) => i.name === "base-python")?.tag).toBe(python?.tag);
    expect(pc2.some((i) => i.name === "base-gpu")).toBe(false);
  });
});
