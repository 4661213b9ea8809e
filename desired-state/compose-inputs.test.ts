import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { composeInputFiles } from "./compose-inputs.ts";

describe("compose input files", () => {
  let dir = "";
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lists env files, included and extended files, and the files those read in turn", async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-inputs-"));
    await mkdir(join(dir, "common"));
    await writeFile(
      join(dir, "common", "db.yaml"),
      "services:\n  db:\n    image: busybox\n    env_file: db.env\n    extends: { file: base.yaml, service: base }\n",
    );
    const text =
      "include:\n  - common/db.yaml\nservices:\n  web:\n    image: busybox\n    env_file: [env/web.env, { path: env/opt.env, " +
      "required: false }]\n    extends: { file: ../shared/base.yaml, service: base }\n";
    const files = await composeInputFiles(join(dir, "compose.yaml"), parse(text));
    expect(files).toEqual(
      [
        join(dir, "common", "base.yaml"),
        join(dir, "common", "db.env"),
        join(dir, "common", "db.yaml"),
        join(dir, "env", "opt.env"),
        join(dir, "env", "web.env"),
        join(dir, "..", "shared", "base.yaml"),
      ].sort(),
    );
  });
});
