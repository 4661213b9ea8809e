// The files a compose file makes compose read: listed for the normaliser's cache key, confined to the root.
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkComposeReferences } from "./compose-references.ts";
import { parseYamlText } from "./read-document.ts";

describe("compose references", () => {
  let root = "";
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function write(files: Record<string, string>): Promise<void> {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  }

  async function check(text: string) {
    const abs = join(root, "stacks", "web", "compose.yaml");
    await write({ "stacks/web/compose.yaml": text });
    const parsed = parseYamlText(text, "stacks/web/compose.yaml");
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    return checkComposeReferences(root, { abs, rel: "stacks/web/compose.yaml", doc: parsed.doc });
  }

  it("lists env files, included and extended files, and the files those read in turn", async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), "berth-inputs-")));
    await write({
      "stacks/web/common/db.yaml":
        "services:\n  db:\n    image: busybox\n    env_file: db.env\n    extends: { file: base.yaml, service: base }\n",
      "stacks/web/common/db.env": "A=1\n",
      "stacks/web/common/base.yaml": "services:\n  base:\n    image: busybox\n",
      "stacks/web/env/web.env": "B=2\n",
      "stacks/web/env/opt.env": "C=3\n",
      "stacks/shared/base.yaml": "services:\n  base:\n    image: busybox\n",
    });
    const result = await check(
      "include:\n  - common/db.yaml\nservices:\n  web:\n    image: busybox\n" +
        "    env_file: [env/web.env, { path: env/opt.env, required: false }]\n    extends: { file: ../shared/base.yaml, service: base }\n",
    );
    const web = join(root, "stacks", "web");
    expect(result).toEqual({
      ok: true,
      value: [
        join(web, "common", "base.yaml"),
        join(web, "common", "db.env"),
        join(web, "common", "db.yaml"),
        join(web, "env", "opt.env"),
        join(web, "env", "web.env"),
        join(root, "stacks", "shared", "base.yaml"),
      ].sort(),
    });
  });

  it("refuses an env file outside the root, naming the file, line and field", async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), "berth-inputs-")));
    const result = await check("services:\n  web:\n    image: busybox\n    env_file: ../../../outside.env\n");
    expect(result).toEqual({
      ok: false,
      error: [
        {
          file: "stacks/web/compose.yaml",
          line: 4,
          field: "services.web.env_file",
          message: '"../../../outside.env" escapes the desired-state root',
        },
      ],
    });
  });
});
