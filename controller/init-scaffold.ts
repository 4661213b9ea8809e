// What `berth init` writes, pure: a desired-state repo for this host (berth.yaml naming it as a
// machine, a profile from its CPU count and GPUs, one example stack, a .gitignore).
import type { GpuReading } from "../metrics/gpu/parse-nvidia-smi.ts";

export type HostFacts = { hostname: string; cpus: number; gpus: readonly GpuReading[] };

export type ScaffoldOptions = {
  /** Machine name (default: the hostname made into a valid name). */
  machine?: string;
  /** Name of the example stack and of its one service (default "hello"). */
  stack?: string;
  /** FROM of the example's Dockerfile (default busybox:1.36, which BuildKit pulls on first build). */
  base?: string;
};

export const DEFAULT_BASE = "busybox:1.36";

/** A hostname as a berth name: lowercase letters, digits, "-", "_", "."; starts with a letter or digit. */
export function machineName(hostname: string): string {
  const name = hostname
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return name || "this-host";
}

/** Profile variables from what this host has; the services read them as environment. */
export function hostProfile(facts: HostFacts): Record<string, string> {
  const profile: Record<string, string> = { CPU_COUNT: String(facts.cpus), OMP_NUM_THREADS: String(facts.cpus) };
  if (facts.gpus.length > 0) {
    profile["GPU_VISIBLE_DEVICES"] = facts.gpus.map((g) => g.index).join(",");
    profile["GPU_MODEL"] = facts.gpus[0]?.model ?? "";
  }
  return profile;
}

/** Relative path → file content. */
export function scaffoldFiles(facts: HostFacts, options: ScaffoldOptions = {}): Record<string, string> {
  const machine = options.machine ?? machineName(facts.hostname);
  const stack = options.stack ?? "hello";
  const gpus = facts.gpus.length > 0 ? `, gpus: ${facts.gpus.length}` : "";
  return {
    "berth.yaml": [
      "# The desired state of this fleet: every machine, its profile, and the defaults of every stack.",
      "# Add a machine per host (berth picks the entry whose hostnames include its own), a stack per",
      "# folder under stacks/, shared base images under images/. Check with `berth validate .`.",
      "version: 1",
      "machines:",
      `  ${machine}: { profile: ${machine}, hostnames: [${JSON.stringify(facts.hostname)}]${gpus} }`,
      "rollout: { strategy: recreate, healthTimeout: 60s, monitor: 10s }",
      'prune: { schedule: "0 4 * * *", keep: 3, minAge: 24h }',
      "resync: 5m",
      "",
    ].join("\n"),
    [`profiles/${machine}.json`]: `${JSON.stringify(hostProfile(facts), null, 2)}\n`,
    [`stacks/${stack}/compose.yaml`]: [
      "# An example stack: busybox's httpd on port 8080 inside the stack's network, health-checked.",
      "# berth builds ./app, starts the new container next to the old one (start-first), and keeps",
      "# the old one when the new one does not turn healthy. Publish a port with `ports:` if you like.",
      "services:",
      `  ${stack}:`,
      "    build: ./app",
      "    restart: unless-stopped",
      "    x-berth:",
      "      rollout: { strategy: start-first }",
      "",
    ].join("\n"),
    [`stacks/${stack}/app/Dockerfile`]: [
      `# ${stack}: a static page and the name of the machine serving it (berth sets MACHINE).`,
      `FROM ${options.base ?? DEFAULT_BASE}`,
      "COPY www /www",
      "HEALTHCHECK --interval=2s --timeout=2s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1",
      'CMD ["sh", "-c", "echo \\"served by $MACHINE\\" > /www/machine.txt && exec httpd -f -p 8080 -h /www"]',
      "",
    ].join("\n"),
    [`stacks/${stack}/app/www/index.html`]:
      `<!doctype html>\n<title>${stack}</title>\n<p>Hello from berth. <a ` + `href="machine.txt">Which machine?</a></p>\n`,
    ".gitignore": ["# Secrets and host-local data never go into the desired state.", ".env", "*.env.local", "stacks/*/data/", ""].join(
      "\n",
    ),
  };
}
