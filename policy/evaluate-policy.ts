// The host policy as a pure function: policy + one machine's normalised compose stacks, builds
// and image facts → violations, each naming its file, field path, control and level.
import { basename, isAbsolute, normalize, relative } from "node:path";
import type { ImageSpec, ServiceSpec, StackSpec } from "../desired-state/desired-state.ts";
import { referenceAllowed } from "../platform/image-reference.ts";
import type { Control, Level, Policy } from "./policy-schema.ts";
import { isRecord } from "../platform/is-record.ts";

export type FieldPath = Array<string | number>;

export type Violation = {
  /** The stack this refuses; absent for the fleet's own files (berth.yaml, images/). */
  stack?: string;
  service?: string;
  /** Relative to the desired-state root. */
  file: string;
  /** The field inside the file (a YAML path), or ["FROM", ref] in a Dockerfile. */
  path: FieldPath;
  control: Control | "registries";
  level: Level;
  message: string;
};

export type PolicyInput = {
  /** Absolute desired-state root (its realpath, as the loader keeps it). */
  root: string;
  stacks: readonly Pick<StackSpec, "name" | "dir" | "composeFile" | "services" | "model">[];
  /** The machine's images, for FROM references under a registries allowlist. */
  images: readonly Pick<ImageSpec, "name" | "origin" | "declaredIn" | "dockerfile" | "dockerfileFacts">[];
  /** berth.yaml's `registry` (pulls and pushes). */
  registry?: string;
  /** berth.yaml's `registry.mirrors` (pulls while the registry does not answer). */
  registryMirrors?: readonly string[];
  /** Image reference or berth image name → the user its image config runs as (facts the caller read). */
  imageUsers?: ReadonlyMap<string, string>;
  /** Engine sockets besides the well-known ones (e.g. from DOCKER_HOST). */
  engineSockets?: readonly string[];
};

type Finding = { control: Control; path: FieldPath; message: string; from: "baseline" | "restricted" };

/** Kubernetes baseline: the container runtime's default capabilities. */
const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
/** Kubernetes' safe sysctls. */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const SELINUX_TYPES = new Set(["container_t", "container_init_t", "container_kvm_t"]);
const ENGINE_SOCKETS = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/run/containerd/containerd.sock",
  "/var/run/containerd/containerd.sock",
  "/run/podman/podman.sock",
  "/run/buildkit/buildkitd.sock",
];
const SOCKET_NAME = /^(docker|containerd|podman|buildkitd|cri-dockerd)\.sock$/;
const NAMESPACES: ReadonlyArray<[key: string, control: Control, what: string]> = [
  ["network_mode", "hostNetwork", "network"],
  ["pid", "hostPID", "process"],
  ["ipc", "hostIPC", "IPC"],
  ["uts", "hostUTS", "UTS (hostname)"],
  ["userns_mode", "hostUsers", "user"],
  ["cgroup", "hostCgroup", "cgroup"],
];

export function evaluatePolicy(policy: Policy, input: PolicyInput): Violation[] {
  const violations: Violation[] = [];
  const level = policy.level;
  const refused = (from: Finding["from"]): boolean => level === "restricted" || (level === "baseline" && from === "baseline");
  const excepted = (stack: string, service: string | undefined, control: Control): boolean =>
    policy.exceptions.some((e) => e.stack === stack && (e.service === undefined || e.service === service) && e.allow.includes(control));
  const allowlist = policy.registries;
  // Many services share a reference: each is checked once per evaluation.
  const checked = new Map<string, string | undefined>();
  const registryCheck = (ref: string): string | undefined => {
    if (!allowlist) return undefined;
    if (!checked.has(ref)) {
      checked.set(
        ref,
        ref.includes("$")
          ? `image reference "${ref}" holds a variable and cannot be checked against the registries allowlist`
          : referenceAllowed(ref, allowlist)
            ? undefined
            : `image reference "${ref}" is not under an allowed registry (${allowlist.join(", ")})`,
      );
    }
    return checked.get(ref);
  };

  for (const stack of input.stacks) {
    const file = relative(input.root, stack.composeFile);
    const paths = { root: input.root, base: stack.dir, allowed: policy.hostPaths, sockets: input.engineSockets ?? [] };
    const report = (finding: Finding, service?: string): void => {
      if (!refused(finding.from) || excepted(stack.name, service, finding.control)) return;
      violations.push({
        stack: stack.name,
        ...(service ? { service } : {}),
        file,
        path: finding.path,
        control: finding.control,
        level,
        message: finding.message,
      });
    };
    for (const service of stack.services) {
      for (const finding of serviceFindings(service, paths, input.imageUsers))
        report({ ...finding, path: ["services", service.name, ...finding.path] }, service.name);
      const references = [
        ...(service.image && service.buildImage === undefined ? [{ ref: service.image, path: ["image"] }] : []),
        ...imageContexts(service.config["build"]),
      ];
      for (const { ref, path } of references) {
        const message = registryCheck(ref);
        if (message)
          violations.push({
            stack: stack.name,
            service: service.name,
            file,
            path: ["services", service.name, ...path],
            control: "registries",
            level,
            message,
          });
      }
    }
    for (const finding of stackFindings(stack.model, paths)) report(finding);
  }

  for (const image of input.images) {
    for (const ref of image.dockerfileFacts.fromRefs) {
      if (image.dockerfileFacts.parents.includes(ref) || ref.toLowerCase() === "scratch") continue;
      const message = registryCheck(ref);
      if (!message) continue;
      violations.push({
        ...(image.origin.kind === "service" ? { stack: image.origin.stack, service: image.origin.service } : {}),
        file: relative(input.root, image.dockerfile),
        path: ["FROM", ref],
        control: "registries",
        level,
        message,
      });
    }
  }
  if (allowlist && input.registry && !referenceAllowed(input.registry, allowlist, { prefix: true })) {
    violations.push({
      file: "berth.yaml",
      path: ["registry"],
      control: "registries",
      level,
      message: `registry "${input.registry}" (pulls and pushes of built images) is not under an allowed registry (${allowlist.join(", ")})`,
    });
  }
  for (const [i, mirror] of (input.registryMirrors ?? []).entries()) {
    if (!allowlist || referenceAllowed(mirror, allowlist, { prefix: true })) continue;
    violations.push({
      file: "berth.yaml",
      path: ["registry", "mirrors", i],
      control: "registries",
      level,
      message: `registry mirror "${mirror}" (pulls of built images) is not under an allowed registry (${allowlist.join(", ")})`,
    });
  }
  return violations;
}

type PathRules = { root: string; base: string; allowed: readonly string[]; sockets: readonly string[] };

function serviceFindings(
  service: Pick<ServiceSpec, "config" | "image" | "buildImage">,
  paths: PathRules,
  imageUsers: ReadonlyMap<string, string> | undefined,
): Finding[] {
  const config = service.config;
  const out: Finding[] = [];
  const baseline = (control: Control, path: FieldPath, message: string): void =>
    void out.push({ control, path, message, from: "baseline" });
  const restricted = (control: Control, path: FieldPath, message: string): void =>
    void out.push({ control, path, message, from: "restricted" });

  if (config["privileged"] === true)
    baseline("privileged", ["privileged"], "privileged: true gives the container every capability and the host's devices");
  for (const [key, control, what] of NAMESPACES) {
    const value = config[key];
    if (value === "host") baseline(control, [key], `${key}: host shares the host's ${what} namespace`);
    else if (typeof value === "string" && value.startsWith("container:"))
      baseline(control, [key], `${key}: ${value} joins another container's ${what} namespace, which berth cannot check`);
  }

  list(config["volumes"]).forEach((volume, index) => {
    if (!isRecord(volume) || volume["type"] !== "bind" || typeof volume["source"] !== "string") return;
    const finding = hostPathFinding(volume["source"], ["volumes", index, "source"], paths, "bind-mounts");
    if (finding) out.push(finding);
  });

  list(config["volumes_from"]).forEach((source, index) => {
    if (typeof source === "string" && source.startsWith("container:"))
      baseline(
        "hostPaths",
        ["volumes_from", index],
        `volumes_from: ${source} mounts whatever another container mounts, which berth cannot check`,
      );
  });

  list(config["cap_add"]).forEach((raw, index) => {
    if (typeof raw !== "string") return;
    const cap = raw.toUpperCase().replace(/^CAP_/, "");
    if (!BASELINE_CAPABILITIES.has(cap))
      baseline("capabilities", ["cap_add", index], `cap_add: ${raw} is beyond the runtime's default capabilities`);
    else if (cap !== "NET_BIND_SERVICE")
      restricted("capabilities", ["cap_add", index], `cap_add: ${raw}: restricted allows only NET_BIND_SERVICE`);
  });
  if (!list(config["cap_drop"]).some((cap) => typeof cap === "string" && cap.toUpperCase() === "ALL"))
    restricted("capabilities", ["cap_drop"], "restricted needs cap_drop: [ALL]");

  list(config["devices"]).forEach((device, index) => {
    const source = isRecord(device) ? device["source"] : device;
    baseline(
      "devices",
      ["devices", index],
      `devices: ${String(source)} gives the container a host device (GPUs go through deploy.resources.reservations.devices)`,
    );
  });
  list(config["device_cgroup_rules"]).forEach((rule, index) =>
    baseline("devices", ["device_cgroup_rules", index], `device_cgroup_rules: "${String(rule)}" opens host devices to the container`),
  );

  let noNewPrivileges = false;
  list(config["security_opt"]).forEach((raw, index) => {
    if (typeof raw !== "string") return;
    const [, key = raw, value = ""] = /^([a-z-]+)[:=](.*)$/s.exec(raw) ?? [];
    const path = ["security_opt", index];
    if (key === "no-new-privileges") noNewPrivileges = value === "" || value === "true";
    else if (key === "seccomp" && value === "unconfined") baseline("seccomp", path, "seccomp:unconfined turns off the syscall filter");
    else if (key === "seccomp" && value !== "builtin") baseline("seccomp", path, "a custom seccomp profile may allow any syscall");
    else if (key === "apparmor" && value === "unconfined") baseline("apparmor", path, "apparmor:unconfined turns off AppArmor");
    else if (key === "apparmor" && value !== "docker-default") baseline("apparmor", path, `apparmor:${value} is a custom AppArmor profile`);
    else if (key === "label") {
      const [part = "", detail = ""] = value.split(/:(.*)/s);
      if (part === "disable") baseline("selinux", path, "label:disable turns off SELinux separation");
      else if (part === "type" && !SELINUX_TYPES.has(detail))
        baseline("selinux", path, `label:type:${detail} is a custom SELinux type (allowed: ${[...SELINUX_TYPES].join(", ")})`);
      else if (part === "user" || part === "role") baseline("selinux", path, `label:${part} sets a custom SELinux ${part}`);
    } else if (key === "systempaths" && value === "unconfined")
      baseline("privileged", path, "systempaths=unconfined unmasks the host's /proc and /sys paths");
  });
  if (!noNewPrivileges) restricted("privilegeEscalation", ["security_opt"], "restricted needs security_opt: [no-new-privileges:true]");

  const sysctls = config["sysctls"];
  const sysctlNames = Array.isArray(sysctls)
    ? sysctls.map((s) => String(s).split("=")[0] ?? "")
    : isRecord(sysctls)
      ? Object.keys(sysctls)
      : [];
  for (const name of sysctlNames)
    if (!SAFE_SYSCTLS.has(name)) baseline("sysctls", ["sysctls", name], `sysctls: ${name} is outside the safe set`);

  const user =
    typeof config["user"] === "string" && config["user"] !== ""
      ? config["user"]
      : imageUsers?.get(service.buildImage ?? service.image ?? "");
  if (user === undefined)
    restricted(
      "runAsRoot",
      ["user"],
      "the image's user is not known here (not built or pulled yet); restricted needs user: set to a non-root user",
    );
  else if (isRootUser(user))
    restricted("runAsRoot", ["user"], `runs as root (user "${user === "" ? "root" : user}"); restricted needs a non-root user`);

  const build = config["build"];
  if (isRecord(build)) {
    if (build["privileged"] === true)
      baseline("privileged", ["build", "privileged"], "build.privileged: true runs build steps with every capability");
    if (build["network"] === "host")
      baseline("hostNetwork", ["build", "network"], "build.network: host runs build steps in the host's network namespace");
    list(build["entitlements"]).forEach((entitlement, index) => {
      if (entitlement === "network.host")
        baseline(
          "hostNetwork",
          ["build", "entitlements", index],
          "build entitlement network.host allows the host's network in build steps",
        );
      else
        baseline(
          "privileged",
          ["build", "entitlements", index],
          `build entitlement ${String(entitlement)} grants build steps extra privileges`,
        );
    });
    for (const [name, value] of entries(build["additional_contexts"])) {
      if (/^[a-z-]+:\/\//.test(value) || value.startsWith("service:") || value.startsWith("target:")) continue;
      const finding = hostPathFinding(value, ["build", "additional_contexts", name], paths, "uses as a build context");
      if (finding) out.push(finding);
    }
    if (list(build["ssh"]).length > 0) baseline("hostPaths", ["build", "ssh"], "build.ssh hands the host's SSH agent or keys to the build");
    if (list(build["secrets"]).length > 0)
      baseline("hostPaths", ["build", "secrets"], "build.secrets hands secrets from the host to the build");
  }
  return out;
}

/** Top-level volumes that are host binds in disguise, secrets and configs read from host files, the host network. */
function stackFindings(model: Record<string, unknown>, paths: PathRules): Finding[] {
  const out: Finding[] = [];
  for (const [name, volume] of Object.entries(isRecord(model["volumes"]) ? model["volumes"] : {})) {
    const opts = isRecord(volume) && isRecord(volume["driver_opts"]) ? volume["driver_opts"] : {};
    const bind = typeof opts["o"] === "string" && opts["o"].split(",").includes("bind");
    if (bind && typeof opts["device"] === "string") {
      const finding = hostPathFinding(opts["device"], ["volumes", name, "driver_opts", "device"], paths, "mounts (a volume bound to)");
      if (finding) out.push(finding);
    }
  }
  for (const kind of ["secrets", "configs"] as const) {
    for (const [name, entry] of Object.entries(isRecord(model[kind]) ? model[kind] : {})) {
      if (!isRecord(entry) || typeof entry["file"] !== "string") continue;
      const finding = hostPathFinding(
        entry["file"],
        [kind, name, "file"],
        paths,
        `reads ${kind === "secrets" ? "a secret" : "a config"} from`,
      );
      if (finding) out.push(finding);
    }
  }
  for (const [name, network] of Object.entries(isRecord(model["networks"]) ? model["networks"] : {})) {
    if (isRecord(network) && (network["name"] === "host" || network["driver"] === "host"))
      out.push({ control: "hostNetwork", path: ["networks", name], message: `network ${name} is the host's network`, from: "baseline" });
  }
  return out;
}

function hostPathFinding(source: string, path: FieldPath, rules: PathRules, verb: string): Finding | undefined {
  const abs = normalize(isAbsolute(source) ? source : `${rules.base}/${source}`).replace(/(?<=.)\/$/, "");
  if (isEngineSocket(abs, rules.sockets))
    return {
      control: "dockerSocket",
      path,
      message: `${verb} ${source}, which is or holds the container engine's socket (root on the host)`,
      from: "baseline",
    };
  if (within(rules.root, abs) || rules.allowed.some((prefix) => within(prefix, abs))) return undefined;
  return {
    control: "hostPaths",
    path,
    message:
      `${verb} ${source}, outside the desired state and not under the policy's ` +
      `hostPaths${rules.allowed.length > 0 ? ` (${rules.allowed.join(", ")})` : ""}`,
    from: "baseline",
  };
}

/** The socket itself, or a directory above one (`/`, `/run`, `/var/run`, a rootless `/run/user/<uid>`). */
function isEngineSocket(abs: string, extra: readonly string[]): boolean {
  if (SOCKET_NAME.test(basename(abs))) return true;
  if (/^\/run\/user\/\d+$/.test(abs) || abs === "/run/user") return true;
  return ENGINE_SOCKETS.some((socket) => within(abs, socket)) || extra.some((socket) => within(abs, socket));
}

/** Both absolute and normalised: plain string comparison (path.relative would cost a cwd lookup per call). */
function within(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

function isRootUser(user: string): boolean {
  const name = user.split(":")[0] ?? "";
  return name === "" || name === "root" || name === "0";
}

function imageContexts(build: unknown): Array<{ ref: string; path: FieldPath }> {
  if (!isRecord(build)) return [];
  return entries(build["additional_contexts"]).flatMap(([name, value]) =>
    value.startsWith("docker-image://")
      ? [{ ref: value.slice("docker-image://".length), path: ["build", "additional_contexts", name] }]
      : [],
  );
}

/** A compose mapping given as an object or as a list of "key=value". */
function entries(value: unknown): Array<[string, string]> {
  if (isRecord(value)) return Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string");
  return list(value).flatMap((item) => {
    if (typeof item !== "string") return [];
    const at = item.indexOf("=");
    return at > 0 ? [[item.slice(0, at), item.slice(at + 1)] as [string, string]] : [];
  });
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
