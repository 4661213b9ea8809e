import { describe, expect, it } from "vitest";
import type { ImageSpec, ServiceSpec, StackSpec } from "../desired-state/desired-state.ts";
import { DEFAULT_ROLLOUT } from "../desired-state/desired-state.ts";
import { evaluatePolicy } from "./evaluate-policy.ts";
import type { PolicyInput } from "./evaluate-policy.ts";
import { LEVELS } from "./policy-schema.ts";
import type { Control, Level, Policy } from "./policy-schema.ts";

const ROOT = "/srv/desired";
const STACK_DIR = `${ROOT}/stacks/app`;
/** A service every level admits: non-root user, every capability dropped, no-new-privileges. */
const CLEAN = { image: "ghcr.io/acme/app:1", user: "1000", cap_drop: ["ALL"], security_opt: ["no-new-privileges:true"] };
const NNP = "no-new-privileges:true";

function service(config: Record<string, unknown>, name = "web"): ServiceSpec {
  return {
    name,
    stack: "app",
    config: { ...CLEAN, ...config },
    image: "ghcr.io/acme/app:1",
    rollout: DEFAULT_ROLLOUT,
    selfHeal: true,
    source: "auto",
    dependsOn: [],
    hasFixedHostPort: false,
  };
}

function input(services: ServiceSpec[], model: Record<string, unknown> = {}, extra: Partial<PolicyInput> = {}): PolicyInput {
  const stack: StackSpec = {
    name: "app",
    dir: STACK_DIR,
    composeFile: `${STACK_DIR}/compose.yaml`,
    machines: "all",
    prune: false,
    services,
    model,
  };
  return { root: ROOT, stacks: [stack], images: [], ...extra };
}

function policy(level: Level, more: Partial<Policy> = {}): Policy {
  return { level, hostPaths: [], exceptions: [], ...more };
}

const ALL: Level[] = ["baseline", "restricted"];
const RESTRICTED: Level[] = ["restricted"];

type Row = {
  control: Control;
  what: string;
  config?: Record<string, unknown>;
  model?: Record<string, unknown>;
  refusedAt: Level[];
  field: string;
};

const ROWS: Row[] = [
  { control: "privileged", what: "privileged: true", config: { privileged: true }, refusedAt: ALL, field: "services.web.privileged" },
  {
    control: "privileged",
    what: "systempaths=unconfined",
    config: { security_opt: [NNP, "systempaths=unconfined"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "privileged",
    what: "build.privileged",
    config: { build: { context: STACK_DIR, privileged: true } },
    refusedAt: ALL,
    field: "services.web.build.privileged",
  },
  {
    control: "privileged",
    what: "build entitlement security.insecure",
    config: { build: { context: STACK_DIR, entitlements: ["security.insecure"] } },
    refusedAt: ALL,
    field: "services.web.build.entitlements.0",
  },
  {
    control: "hostNetwork",
    what: "network_mode: host",
    config: { network_mode: "host" },
    refusedAt: ALL,
    field: "services.web.network_mode",
  },
  {
    control: "hostNetwork",
    what: "network_mode: container:x",
    config: { network_mode: "container:vpn" },
    refusedAt: ALL,
    field: "services.web.network_mode",
  },
  {
    control: "hostNetwork",
    what: "build.network: host",
    config: { build: { context: STACK_DIR, network: "host" } },
    refusedAt: ALL,
    field: "services.web.build.network",
  },
  {
    control: "hostNetwork",
    what: "build entitlement network.host",
    config: { build: { context: STACK_DIR, entitlements: ["network.host"] } },
    refusedAt: ALL,
    field: "services.web.build.entitlements.0",
  },
  {
    control: "hostNetwork",
    what: "a network named host",
    model: { networks: { outside: { name: "host", external: true } } },
    refusedAt: ALL,
    field: "networks.outside",
  },
  { control: "hostPID", what: "pid: host", config: { pid: "host" }, refusedAt: ALL, field: "services.web.pid" },
  { control: "hostIPC", what: "ipc: host", config: { ipc: "host" }, refusedAt: ALL, field: "services.web.ipc" },
  { control: "hostUTS", what: "uts: host", config: { uts: "host" }, refusedAt: ALL, field: "services.web.uts" },
  { control: "hostUsers", what: "userns_mode: host", config: { userns_mode: "host" }, refusedAt: ALL, field: "services.web.userns_mode" },
  { control: "hostCgroup", what: "cgroup: host", config: { cgroup: "host" }, refusedAt: ALL, field: "services.web.cgroup" },
  {
    control: "hostPaths",
    what: "a bind mount of /etc",
    config: { volumes: [{ type: "bind", source: "/etc", target: "/host-etc" }] },
    refusedAt: ALL,
    field: "services.web.volumes.0.source",
  },
  {
    control: "hostPaths",
    what: "a bind escaping the root with ..",
    config: { volumes: [{ type: "bind", source: `${STACK_DIR}/../../../home`, target: "/h" }] },
    refusedAt: ALL,
    field: "services.web.volumes.0.source",
  },
  {
    control: "hostPaths",
    what: "a local volume bound to /etc",
    model: { volumes: { data: { driver_opts: { type: "none", o: "bind", device: "/etc" } } } },
    refusedAt: ALL,
    field: "volumes.data.driver_opts.device",
  },
  {
    control: "hostPaths",
    what: "a secret read from a host file",
    model: { secrets: { key: { file: "/etc/shadow" } } },
    refusedAt: ALL,
    field: "secrets.key.file",
  },
  {
    control: "hostPaths",
    what: "a config read from a host file",
    model: { configs: { conf: { file: "/etc/passwd" } } },
    refusedAt: ALL,
    field: "configs.conf.file",
  },
  {
    control: "hostPaths",
    what: "an additional build context outside the root",
    config: { build: { context: STACK_DIR, additional_contexts: { extra: "/etc" } } },
    refusedAt: ALL,
    field: "services.web.build.additional_contexts.extra",
  },
  {
    control: "hostPaths",
    what: "build.ssh",
    config: { build: { context: STACK_DIR, ssh: ["default"] } },
    refusedAt: ALL,
    field: "services.web.build.ssh",
  },
  {
    control: "hostPaths",
    what: "build.secrets",
    config: { build: { context: STACK_DIR, secrets: ["token"] } },
    refusedAt: ALL,
    field: "services.web.build.secrets",
  },
  {
    control: "hostPaths",
    what: "volumes_from another container",
    config: { volumes_from: ["container:sidecar"] },
    refusedAt: ALL,
    field: "services.web.volumes_from.0",
  },
  {
    control: "dockerSocket",
    what: "the docker socket",
    config: { volumes: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }] },
    refusedAt: ALL,
    field: "services.web.volumes.0.source",
  },
  {
    control: "dockerSocket",
    what: "the host's /",
    config: { volumes: [{ type: "bind", source: "/", target: "/host" }] },
    refusedAt: ALL,
    field: "services.web.volumes.0.source",
  },
  {
    control: "dockerSocket",
    what: "a rootless engine's runtime dir",
    config: { volumes: [{ type: "bind", source: "/run/user/1000", target: "/r" }] },
    refusedAt: ALL,
    field: "services.web.volumes.0.source",
  },
  {
    control: "capabilities",
    what: "cap_add: SYS_ADMIN",
    config: { cap_add: ["SYS_ADMIN"] },
    refusedAt: ALL,
    field: "services.web.cap_add.0",
  },
  { control: "capabilities", what: "cap_add: ALL", config: { cap_add: ["ALL"] }, refusedAt: ALL, field: "services.web.cap_add.0" },
  {
    control: "capabilities",
    what: "cap_add: CHOWN (a default capability)",
    config: { cap_add: ["CHOWN"] },
    refusedAt: RESTRICTED,
    field: "services.web.cap_add.0",
  },
  { control: "capabilities", what: "no cap_drop: [ALL]", config: { cap_drop: [] }, refusedAt: RESTRICTED, field: "services.web.cap_drop" },
  {
    control: "devices",
    what: "devices: /dev/sda",
    config: { devices: [{ source: "/dev/sda", target: "/dev/sda", permissions: "rwm" }] },
    refusedAt: ALL,
    field: "services.web.devices.0",
  },
  {
    control: "devices",
    what: "device_cgroup_rules",
    config: { device_cgroup_rules: ["c 1:3 mr"] },
    refusedAt: ALL,
    field: "services.web.device_cgroup_rules.0",
  },
  {
    control: "seccomp",
    what: "seccomp:unconfined",
    config: { security_opt: [NNP, "seccomp:unconfined"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "seccomp",
    what: "a custom seccomp profile",
    config: { security_opt: [NNP, "seccomp=/srv/allow-all.json"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "apparmor",
    what: "apparmor=unconfined",
    config: { security_opt: [NNP, "apparmor=unconfined"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "apparmor",
    what: "a custom AppArmor profile",
    config: { security_opt: [NNP, "apparmor:my-loose-profile"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "selinux",
    what: "label:disable",
    config: { security_opt: [NNP, "label:disable"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "selinux",
    what: "label:type:spc_t",
    config: { security_opt: [NNP, "label:type:spc_t"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "selinux",
    what: "label:user",
    config: { security_opt: [NNP, "label=user:system_u"] },
    refusedAt: ALL,
    field: "services.web.security_opt.1",
  },
  {
    control: "sysctls",
    what: "an unsafe sysctl",
    config: { sysctls: { "kernel.msgmax": "65536" } },
    refusedAt: ALL,
    field: "services.web.sysctls.kernel.msgmax",
  },
  { control: "runAsRoot", what: "user: 0", config: { user: "0" }, refusedAt: RESTRICTED, field: "services.web.user" },
  { control: "runAsRoot", what: "user: root:root", config: { user: "root:root" }, refusedAt: RESTRICTED, field: "services.web.user" },
  {
    control: "runAsRoot",
    what: "no user and an image user not known",
    config: { user: undefined },
    refusedAt: RESTRICTED,
    field: "services.web.user",
  },
  {
    control: "privilegeEscalation",
    what: "no no-new-privileges",
    config: { security_opt: [] },
    refusedAt: RESTRICTED,
    field: "services.web.security_opt",
  },
  {
    control: "privilegeEscalation",
    what: "no-new-privileges:false",
    config: { security_opt: ["no-new-privileges:false"] },
    refusedAt: RESTRICTED,
    field: "services.web.security_opt",
  },
];

describe("evaluatePolicy: every control at every level", () => {
  for (const row of ROWS) {
    for (const level of LEVELS) {
      const refused = row.refusedAt.includes(level);
      it(`${refused ? "refuses" : "allows"} ${row.what} (${row.control}) at ${level}`, () => {
        const violations = evaluatePolicy(policy(level), input([service(row.config ?? {})], row.model ?? {}));
        expect(violations).toEqual(
          refused
            ? [
                {
                  stack: "app",
                  ...(row.field.startsWith("services.") ? { service: "web" } : {}),
                  file: "stacks/app/compose.yaml",
                  path: expect.any(Array) as unknown,
                  control: row.control,
                  level,
                  message: expect.any(String) as unknown,
                },
              ]
            : [],
        );
        if (refused) expect(violations[0]?.path.join(".")).toBe(row.field);
      });
    }
  }
});

describe("evaluatePolicy: what every level allows", () => {
  const allowed: Array<{
    what: string;
    config?: Record<string, unknown>;
    model?: Record<string, unknown>;
    policy?: Partial<Policy>;
    users?: Map<string, string>;
  }> = [
    {
      what: "a bind mount inside the desired state",
      config: { volumes: [{ type: "bind", source: `${STACK_DIR}/data`, target: "/data" }] },
    },
    {
      what: "a bind mount under the policy's hostPaths",
      config: { volumes: [{ type: "bind", source: "/srv/data/app", target: "/data" }] },
      policy: { hostPaths: ["/srv/data"] },
    },
    {
      what: "a named volume and a tmpfs",
      config: {
        volumes: [
          { type: "volume", source: "cache", target: "/c" },
          { type: "tmpfs", target: "/t" },
        ],
      },
      model: { volumes: { cache: {} } },
    },
    {
      what: "a GPU through deploy.resources.reservations.devices",
      config: { deploy: { resources: { reservations: { devices: [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }] } } } },
    },
    { what: "cap_add: NET_BIND_SERVICE", config: { cap_add: ["NET_BIND_SERVICE"] } },
    { what: "a safe sysctl", config: { sysctls: { "net.ipv4.ip_unprivileged_port_start": "80" } } },
    {
      what: "the default AppArmor profile, an SELinux level, the builtin seccomp profile",
      config: { security_opt: [NNP, "apparmor:docker-default", "label:level:s0:c100,c200", "seccomp=builtin"] },
    },
    { what: "another service's network namespace and volumes", config: { network_mode: "service:vpn", volumes_from: ["vpn:ro"] } },
    { what: "a non-root user from the image's config", config: { user: undefined }, users: new Map([["ghcr.io/acme/app:1", "app"]]) },
    {
      what: "a build context and args inside the root",
      config: {
        build: {
          context: `${STACK_DIR}/app`,
          dockerfile: "Dockerfile",
          args: { A: "1" },
          additional_contexts: { base: "docker-image://ghcr.io/acme/base:1", lib: `${ROOT}/lib` },
        },
      },
    },
  ];
  for (const row of allowed) {
    for (const level of LEVELS) {
      it(`allows ${row.what} at ${level}`, () => {
        expect(
          evaluatePolicy(
            policy(level, row.policy),
            input([service(row.config ?? {})], row.model ?? {}, row.users ? { imageUsers: row.users } : {}),
          ),
        ).toEqual([]);
      });
    }
  }

  it("still refuses the docker socket under an allowed host path", () => {
    const violations = evaluatePolicy(
      policy("baseline", { hostPaths: ["/var/run"] }),
      input([service({ volumes: [{ type: "bind", source: "/var/run/docker.sock", target: "/s" }] })]),
    );
    expect(violations.map((v) => v.control)).toEqual(["dockerSocket"]);
  });

  it("treats an image user of root as root at restricted", () => {
    const violations = evaluatePolicy(
      policy("restricted"),
      input([service({ user: undefined })], {}, { imageUsers: new Map([["ghcr.io/acme/app:1", "root"]]) }),
    );
    expect(violations.map((v) => [v.control, v.message])).toEqual([
      ["runAsRoot", 'runs as root (user "root"); restricted needs a non-root user'],
    ]);
  });

  it("refuses a bind of the engine socket that DOCKER_HOST names", () => {
    const violations = evaluatePolicy(
      policy("baseline", { hostPaths: ["/srv"] }),
      input(
        [service({ volumes: [{ type: "bind", source: "/srv/engine/api.sock", target: "/s" }] })],
        {},
        { engineSockets: ["/srv/engine/api.sock"] },
      ),
    );
    expect(violations.map((v) => v.control)).toEqual(["dockerSocket"]);
  });
});

describe("evaluatePolicy: exceptions", () => {
  const hostNet = (name: string) => service({ network_mode: "host" }, name);

  it("waives the allowed control for the named service only", () => {
    const violations = evaluatePolicy(
      policy("baseline", { exceptions: [{ stack: "app", service: "assistant", allow: ["hostNetwork"] }] }),
      input([hostNet("assistant"), hostNet("other")]),
    );
    expect(violations.map((v) => [v.service, v.control])).toEqual([["other", "hostNetwork"]]);
  });

  it("waives it for every service when no service is named, stack-level fields included", () => {
    const violations = evaluatePolicy(
      policy("baseline", { exceptions: [{ stack: "app", allow: ["hostNetwork"] }] }),
      input([hostNet("a"), hostNet("b")], { networks: { outside: { name: "host" } } }),
    );
    expect(violations).toEqual([]);
  });

  it("does not waive other controls, other stacks, or a stack-level field for a service exception", () => {
    const exceptions = [
      { stack: "app", service: "a", allow: ["hostNetwork" as const] },
      { stack: "elsewhere", allow: ["privileged" as const] },
    ];
    const violations = evaluatePolicy(
      policy("baseline", { exceptions }),
      input([service({ network_mode: "host", privileged: true }, "a")], { networks: { outside: { name: "host" } } }),
    );
    expect(violations.map((v) => [v.service ?? "-", v.control])).toEqual([
      ["a", "privileged"],
      ["-", "hostNetwork"],
    ]);
  });
});

describe("evaluatePolicy: registries allowlist", () => {
  const registries = ["ghcr.io/acme", "127.0.0.1:5000"];
  const image = (name: string, fromRefs: string[], origin: ImageSpec["origin"] = { kind: "image" }) => ({
    name,
    origin,
    declaredIn: `images/${name}/image.yaml`,
    dockerfile: `${ROOT}/images/${name}/Dockerfile`,
    dockerfileFacts: { fromRefs, parents: fromRefs.filter((r) => r === "base"), declaredArgs: [] },
  });

  it("refuses image references outside the allowlist at every level, privileged included", () => {
    for (const level of LEVELS) {
      const services = [
        service({ image: "nginx:1.27" }, "a"),
        service({ image: "ghcr.io/acme/app:2" }, "b"),
        service({ image: "127.0.0.1:5000/tool@sha256:00" }, "c"),
        service({ image: "ghcr.io/acmeevil/x" }, "d"),
      ];
      services.forEach((s) => (s.image = String(s.config["image"])));
      const violations = evaluatePolicy(policy(level, { registries }), input(services));
      expect(violations.map((v) => [v.service, v.control, v.path.join(".")])).toEqual([
        ["a", "registries", "services.a.image"],
        ["d", "registries", "services.d.image"],
      ]);
    }
  });

  it("checks FROM references of built images, berth parents and scratch aside, and berth.yaml's registry", () => {
    const images = [
      image("base", ["docker.io/library/debian:bookworm"]),
      image("app", ["base", "scratch", "ghcr.io/acme/tools:1"]),
      image("web", ["python:3.12", "${BASE}"], { kind: "service", stack: "app", service: "web" }),
    ];
    const violations = evaluatePolicy(policy("baseline", { registries }), { root: ROOT, stacks: [], images, registry: "ghcr.io/other" });
    expect(violations.map((v) => [v.stack ?? "-", v.file, v.path.join(" ")])).toEqual([
      ["-", "images/base/Dockerfile", "FROM docker.io/library/debian:bookworm"],
      ["app", "images/web/Dockerfile", "FROM python:3.12"],
      ["app", "images/web/Dockerfile", "FROM ${BASE}"],
      ["-", "berth.yaml", "registry"],
    ]);
  });

  it("checks berth.yaml's registry mirrors like the registry", () => {
    const violations = evaluatePolicy(policy("baseline", { registries }), {
      root: ROOT,
      stacks: [],
      images: [],
      registry: "ghcr.io/acme",
      registryMirrors: ["127.0.0.1:5000/acme", "quay.io/acme"],
    });
    expect(violations.map((v) => [v.file, v.path.join(" ")])).toEqual([["berth.yaml", "registry mirrors 1"]]);
  });

  it("allows Docker Hub when it is listed", () => {
    const s = service({ image: "busybox" });
    s.image = "busybox";
    expect(evaluatePolicy(policy("baseline", { registries: ["docker.io"] }), input([s]))).toEqual([]);
  });

  it("checks nothing without an allowlist", () => {
    const s = service({ image: "nginx" });
    s.image = "nginx";
    expect(evaluatePolicy(policy("baseline"), input([s], {}, { registry: "quay.io/x" }))).toEqual([]);
  });
});
