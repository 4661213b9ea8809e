// `berth validate DIR [--machine M] [--policy FILE]` against real `docker compose config`: every
// violation as file:line: field: message naming the control and level, for CI; and `berth plan`
// at level restricted reading the user of local images from the engine.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { BUSYBOX_IMAGE, ensureBusyboxImage } from "../support/busybox-image.ts";
import { docker } from "../support/stacks-harness.ts";

const HOME = `x-berth:
  machines: [pc2]
services:
  assistant:
    image: ghcr.io/acme/assistant:1
    network_mode: host
    privileged: true
    volumes:
      - ./data:/data
      - /etc:/host-etc:ro
      - /var/run/docker.sock:/var/run/docker.sock
    cap_add: [SYS_ADMIN, NET_BIND_SERVICE]
    security_opt: ["seccomp:unconfined"]
  gpu:
    image: ghcr.io/acme/infer:1
    deploy:
      resources:
        reservations:
          devices: [{ driver: nvidia, count: 1, capabilities: [gpu] }]
`;

const WEB = `services:
  web:
    image: nginx:1.27
    volumes: ["./html:/usr/share/nginx/html:ro", "/srv/data/web:/data"]
`;

describe("berth validate --policy", () => {
  let dir: string;
  let root: string;

  async function write(files: Record<string, string>): Promise<void> {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, name)), { recursive: true });
      await writeFile(join(root, name), text);
    }
  }

  async function policy(text: string): Promise<string> {
    const file = join(dir, `policy-${Math.random().toString(36).slice(2, 8)}.yaml`);
    await writeFile(file, text);
    return file;
  }

  async function validate(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(["validate", ...args], { stdout: (t) => (out += t), stderr: (t) => (err += t), env: process.env });
    return { code, out, err };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "policy-validate-"));
    root = join(dir, "desired");
    await write({
      "berth.yaml": "version: 1\nregistry: 127.0.0.1:5000/acme\nmachines:\n  mainpc: { profile: mainpc }\n  pc2: { profile: pc2 }\n",
      "profiles/mainpc.json": "{}\n",
      "profiles/pc2.json": "{}\n",
      "stacks/home/compose.yaml": HOME,
      "stacks/web/compose.yaml": WEB,
    });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lists every violation with its file, line, field, control and level, and exits 1", async () => {
    const result = await validate(root, "--policy", await policy("level: baseline\nhostPaths: [/srv/data]\n"));
    expect(result.code).toBe(1);
    expect(result.err.split("\n")).toEqual([
      "stacks/home/compose.yaml:7: services.assistant.privileged: refused by the host policy (control privileged, level " +
        "baseline): privileged: true gives the container every capability and the host's devices",
      "stacks/home/compose.yaml:6: services.assistant.network_mode: refused by the host policy (control hostNetwork, level " +
        "baseline): network_mode: host shares the host's network namespace",
      "stacks/home/compose.yaml:10: services.assistant.volumes.1.source: refused by the host policy (control hostPaths, level " +
        "baseline): bind-mounts /etc, outside the desired state and not under the policy's hostPaths (/srv/data)",
      "stacks/home/compose.yaml:11: services.assistant.volumes.2.source: refused by the host policy (control dockerSocket, level " +
        "baseline): bind-mounts /var/run/docker.sock, which is or holds the container engine's socket (root on the host)",
      "stacks/home/compose.yaml:12: services.assistant.cap_add.0: refused by the host policy (control capabilities, level " +
        "baseline): cap_add: SYS_ADMIN is beyond the runtime's default capabilities",
      "stacks/home/compose.yaml:13: services.assistant.security_opt.0: refused by the host policy (control seccomp, level " +
        "baseline): seccomp:unconfined turns off the syscall filter",
      `${root}: 6 problems`,
      "",
    ]);
  });

  it("passes once the host grants exceptions, and only for the stack and service named", async () => {
    const exceptions =
      "exceptions:\n  - stack: home\n    service: assistant\n    allow: [privileged, hostNetwork, hostPaths, dockerSocket, " +
      "capabilities, seccomp]\n";
    const granted = await validate(root, "--policy", await policy(`level: baseline\nhostPaths: [/srv/data]\n${exceptions}`));
    expect(granted.err).toBe("");
    expect(granted.code).toBe(0);
    expect(granted.out).toContain("under host policy level baseline");
    const wrongService = await validate(
      root,
      "--policy",
      await policy(`hostPaths: [/srv/data]\n${exceptions.replace("service: assistant", "service: gpu")}`),
    );
    expect(wrongService.code).toBe(1);
    expect(wrongService.err).toContain(`${root}: 6 problems`);
  });

  it("checks only the named machine's stacks: --machine, else the policy's machine", async () => {
    const file = await policy("hostPaths: [/srv/data]\n");
    expect((await validate(root, "--machine", "mainpc", "--policy", file)).code).toBe(0);
    expect((await validate(root, "--machine", "pc2", "--policy", file)).code).toBe(1);
    const pinned = await validate(root, "--policy", await policy("hostPaths: [/srv/data]\nmachine: mainpc\n"));
    expect(pinned.out).toContain("under host policy level baseline for machine mainpc");
    expect(pinned.code).toBe(0);
    const unknown = await validate(root, "--machine", "pc9", "--policy", file);
    expect(unknown.err).toContain('berth.yaml: machines: machine "pc9" is not in berth.yaml machines (known: mainpc, pc2)');
  });

  it("refuses image references and pushes outside the registries allowlist even at level privileged", async () => {
    const result = await validate(root, "--policy", await policy("level: privileged\nregistries: [ghcr.io/acme]\n"));
    expect(result.code).toBe(1);
    expect(result.err.split("\n").slice(0, -2).sort()).toEqual([
      'berth.yaml:2: registry: refused by the host policy (control registries, level privileged): registry "127.0.0.1:5000/acme" ' +
        "(pulls and pushes of built images) is not under an allowed registry (ghcr.io/acme)",
      "stacks/web/compose.yaml:3: services.web.image: refused by the host policy (control registries, level privileged): image " +
        'reference "nginx:1.27" is not under an allowed registry (ghcr.io/acme)',
    ]);
  });

  it("refuses a restricted host what the baseline allows: root, capabilities kept, no no-new-privileges", async () => {
    const result = await validate(root, "--machine", "mainpc", "--policy", await policy("level: restricted\nhostPaths: [/srv/data]\n"));
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "stacks/web/compose.yaml:3: services.web.user: refused by the host policy (control runAsRoot, level restricted): the " +
        "image's user is not known here (not built or pulled yet); restricted needs user: set to a non-root user",
    );
    expect(result.err).toContain(
      "services.web.cap_drop: refused by the host policy (control capabilities, level restricted): restricted needs cap_drop: [ALL]",
    );
    expect(result.err).toContain("services.web.security_opt: refused by the host policy (control privilegeEscalation, level restricted)");
  });

  it("refuses compose build keys berth does not pass on to BuildKit, naming the line", async () => {
    await write({
      "stacks/built/compose.yaml":
        'services:\n  app:\n    build:\n      context: .\n      dockerfile_inline: "FROM scratch"\n      target: runtime\n',
      "stacks/built/Dockerfile": "FROM scratch\n",
    });
    try {
      const result = await validate(root, "--policy", await policy("level: privileged\n"));
      expect(result.code).toBe(1);
      expect(result.err).toContain(
        "stacks/built/compose.yaml:5: services.app.build.dockerfile_inline: berth builds with context, dockerfile and args only " +
          "and does not pass dockerfile_inline on to BuildKit; remove it",
      );
      expect(result.err).toContain(
        "stacks/built/compose.yaml:6: services.app.build.target: berth builds with context, dockerfile and args only and does " +
          "not pass target on to BuildKit; remove it",
      );
    } finally {
      await rm(join(root, "stacks", "built"), { recursive: true, force: true });
    }
  });

  it("reports a policy file's own typo with its line and exits 2", async () => {
    const file = await policy("level: baseline\nregistry: [ghcr.io/acme]\n");
    const result = await validate(root, "--policy", file);
    expect(result.code).toBe(2);
    expect(result.err).toBe(`${file}:2: registry: unknown key (check for a typo)\n`);
  });

  it("passes the example fleet at level baseline", async () => {
    const result = await validate(
      new URL("../../examples/fleet/", import.meta.url).pathname,
      "--policy",
      await policy("level: baseline\n"),
    );
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
  });
});

describe("berth plan --policy at level restricted", () => {
  let dir: string;
  let nonRoot: string;

  beforeAll(async () => {
    await ensureBusyboxImage();
    dir = await mkdtemp(join(tmpdir(), "policy-plan-"));
    nonRoot = `policy-e2e-${Math.random().toString(36).slice(2, 8)}/nonroot:1`;
    await mkdir(join(dir, "image"), { recursive: true });
    await writeFile(join(dir, "image", "Dockerfile"), `FROM ${BUSYBOX_IMAGE}\nUSER 1000:1000\n`);
    await docker("build", "-q", "-t", nonRoot, join(dir, "image"));
    const hardened = (image: string) =>
      `services:\n  app:\n    image: ${image}\n    cap_drop: [ALL]\n    security_opt: ["no-new-privileges:true"]\n`;
    for (const [name, text] of Object.entries({
      "desired/berth.yaml": "version: 1\nmachines:\n  box: { profile: box }\n",
      "desired/profiles/box.json": "{}\n",
      "desired/stacks/nonroot/compose.yaml": hardened(nonRoot),
      "desired/stacks/rooted/compose.yaml": hardened(BUSYBOX_IMAGE),
      "policy.yaml": "level: restricted\nmachine: box\n",
    })) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  });

  afterAll(async () => {
    await docker("rmi", nonRoot).catch(() => "");
    await rm(dir, { recursive: true, force: true });
  });

  it("reads each local image's user from the engine: the root one is refused, the non-root one planned", async () => {
    let out = "";
    let err = "";
    const code = await main(["plan", join(dir, "desired"), "--policy", join(dir, "policy.yaml"), "--state-dir", join(dir, "state")], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      env: process.env,
    });
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(
        String.raw`^stack +rooted +refused +PolicyDenied +stacks/rooted/compose\.yaml:3: services\.app\.user: ` +
          String.raw`refused by the host policy \(control runAsRoot, level restricted\): runs as root \(user "root"\); ` +
          String.raw`restricted needs a non-root user$`,
        "m",
      ),
    );
    expect(out).toMatch(/^service +nonroot\/app +create +no container yet/m);
    expect(out).not.toMatch(/nonroot +refused/);
  });
});
