// A compose service as berth runs it: the strategy, fixed port and build derived once, and the
// service rules refused with file, line and field.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_ROLLOUT } from "./desired-state.ts";
import { deriveService } from "./derive-service.ts";
import type { ServiceInput } from "./derive-service.ts";
import { serviceExtensionSchema } from "./compose-extension-schema.ts";
import { composeServiceSchema } from "./compose-file-schema.ts";
import { parseYamlText } from "./read-document.ts";

function input(yaml: string): ServiceInput {
  const parsed = parseYamlText(`services:\n  web:\n${yaml.replace(/^/gm, "    ")}`, "stacks/s/compose.yaml");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const config = (parse(`${yaml}\n`) ?? {}) as Record<string, unknown>;
  const body = composeServiceSchema.parse(config);
  return {
    stack: "s",
    name: "web",
    config,
    raw: { body, extension: serviceExtensionSchema.parse(body["x-berth"] ?? {}) },
    rolloutDefaults: DEFAULT_ROLLOUT,
    updateDefault: "pinned",
    file: "stacks/s/compose.yaml",
    doc: parsed.doc,
  };
}

describe("deriveService", () => {
  it("carries x-berth.verify (shell strings and argv lists) into the spec; the strict schema refuses a bare string", () => {
    const derived = deriveService(input('image: nginx:1\nx-berth: { verify: ["nvidia-smi -L", [python3, -c, "import torch"]] }'));
    expect(derived.ok && derived.value.spec.verify).toEqual(["nvidia-smi -L", ["python3", "-c", "import torch"]]);
    expect(serviceExtensionSchema.safeParse({ verify: "nvidia-smi -L" }).success).toBe(false);
    expect(serviceExtensionSchema.safeParse({ verify: [] }).success).toBe(false);
  });

  it("takes start-first from deploy.update_config.order when x-berth names no strategy", () => {
    const derived = deriveService(input("image: nginx:1\ndeploy: { update_config: { order: start-first } }"));
    expect(derived.ok && derived.value.spec.rollout.strategy).toBe("start-first");
  });

  it("lets x-berth's strategy win over deploy.update_config.order", () => {
    const derived = deriveService(
      input("image: nginx:1\ndeploy: { update_config: { order: start-first } }\nx-berth: { rollout: { strategy: recreate } }"),
    );
    expect(derived.ok && derived.value.spec.rollout.strategy).toBe("recreate");
  });

  it("records a fixed host port and refuses start-first with it, naming the line and field", () => {
    const fixed = deriveService(input('image: nginx:1\nports: ["8080:80"]'));
    expect(fixed.ok && fixed.value.spec.hasFixedHostPort).toBe(true);
    expect(deriveService(input("image: nginx:1\nports: [{ target: 80 }]"))).toMatchObject({
      ok: true,
      value: { spec: { hasFixedHostPort: false } },
    });
    expect(deriveService(input('image: nginx:1\nports: ["8080:80"]\nx-berth: { rollout: { strategy: start-first } }'))).toEqual({
      ok: false,
      error: [
        {
          file: "stacks/s/compose.yaml",
          line: 3,
          field: "services.web.x-berth.rollout.strategy",
          message: "start-first needs two containers side by side; remove the fixed host port or container_name, or use recreate",
        },
      ],
    });
  });

  it("derives the image a build makes from the context and Dockerfile as written", () => {
    const derived = deriveService(
      input("build: { context: ./app, dockerfile: Dockerfile.prod, args: { A: '1' } }\nx-berth: { source: pull }"),
    );
    expect(derived).toMatchObject({
      ok: true,
      value: {
        spec: { buildImage: "web", source: "pull" },
        build: { imageName: "web", context: "./app", dockerfile: "app/Dockerfile.prod", args: { A: "1" }, source: "pull" },
      },
    });
  });

  it("refuses build keys berth does not pass on, more than one replica, and a service with neither image nor build", () => {
    const refused = deriveService(input("build: { context: ., target: prod }\nscale: 2"));
    expect(refused.ok ? [] : refused.error.map((p) => p.field)).toEqual(["services.web.scale", "services.web.build.target"]);
    const empty = deriveService(input("environment: { A: '1' }"));
    expect(empty.ok ? [] : empty.error.map((p) => `${p.field}: ${p.message}`)).toEqual(["services.web: needs an image or a build"]);
  });
});
