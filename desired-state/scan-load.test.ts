// The loader carries the vulnerability gate's settings into the desired state: berth.yaml's
// `scan:` on the state, image.yaml's and a built service's x-berth `scan:` on their images, a
// third-party service's x-berth `scan:` on the service.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDesiredState } from "./load-desired-state.ts";

describe("scan settings in the desired state", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "vuln-load-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("vuln: puts berth.yaml's scan on the state, image and built-service overrides on their images, a pulled service's on it", async () => {
    const files: Record<string, string> = {
      "berth.yaml": "version: 1\nmachines:\n  pc2: { profile: pc2 }\nscan: { failOn: [critical], maxAge: 6h }\n",
      "profiles/pc2.json": "{}",
      "images/base/image.yaml": "scan: { ignoreUnfixed: true, allow: [{ id: CVE-2024-1, expires: 2027-01-31 }] }\n",
      "images/base/Dockerfile": "FROM scratch\n",
      "stacks/web/compose.yaml":
        "services:\n  api:\n    build: ./app\n    x-berth:\n      scan: { enforce: false }\n" +
        "  cache:\n    image: redis:7\n    x-berth:\n      scan: { failOn: [high] }\n",
      "stacks/web/app/Dockerfile": "FROM base\n",
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }

    const loaded = await loadDesiredState(root, { revision: "r1" });

    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.state.scan).toEqual({ failOn: ["critical"], maxAge: 21600 });
    expect(Object.fromEntries(loaded.state.images.map((i) => [i.name, i.scan]))).toEqual({
      base: { ignoreUnfixed: true, allow: [{ id: "CVE-2024-1", expires: "2027-01-31" }] },
      api: { enforce: false },
    });
    expect(loaded.state.stacks[0]?.services.find((s) => s.name === "cache")?.scan).toEqual({ failOn: ["high"] });
  });
});
