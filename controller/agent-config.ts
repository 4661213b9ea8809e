// The agent's configuration from flags and BERTH_* environment variables (flags win), checked.
import { z } from "zod";
import type { CommandArgs } from "./cli-io.ts";

export const AGENT_OPTIONS = {
  "desired-state": { type: "string" },
  repo: { type: "string" },
  branch: { type: "string" },
  machine: { type: "string" },
  "state-dir": { type: "string" },
  listen: { type: "string" },
  "log-level": { type: "string" },
  "api-token-file": { type: "string" },
  "webhook-secret-file": { type: "string" },
  "verify-commits": { type: "string" },
  "allowed-signers": { type: "string" },
  "gpg-keyring": { type: "string" },
  "fetch-interval": { type: "string" },
  "stack-concurrency": { type: "string" },
  policy: { type: "string" },
  once: { type: "boolean" },
  "verify-range": { type: "boolean" },
  "no-rollback": { type: "boolean" },
  "listen-insecure": { type: "boolean" },
  "protect-status": { type: "boolean" },
} as const;

const configSchema = z
  .strictObject({
    desiredState: z.string().min(1).optional(),
    repo: z.string().min(1).optional(),
    branch: z.string().min(1).default("main"),
    machine: z.string().min(1).optional(),
    stateDir: z.string().min(1).default("/var/lib/berth"),
    listen: z
      .string()
      .regex(/^[^:]+:\d+$/, { error: "must be HOST:PORT, e.g. 127.0.0.1:9464" })
      .default("127.0.0.1:9464"),
    logLevel: z
      .union([z.literal("trace"), z.literal("debug"), z.literal("info"), z.literal("warn"), z.literal("error"), z.literal("silent")])
      .default("info"),
    apiTokenFile: z.string().optional(),
    webhookSecretFile: z.string().optional(),
    verifyCommits: z.union([z.literal("ssh"), z.literal("gpg")]).optional(),
    allowedSigners: z.string().optional(),
    gpgKeyring: z.string().optional(),
    fetchIntervalSeconds: z.coerce.number().positive().default(60),
    stackConcurrency: z.coerce.number().int().min(1).max(32).default(4),
    /** Host policy file; default /etc/berth/policy.yaml when it exists, else level baseline. */
    policy: z.string().min(1).optional(),
    once: z.boolean().default(false),
    verifyRange: z.boolean().default(false),
    noRollback: z.boolean().default(false),
    listenInsecure: z.boolean().default(false),
    protectStatus: z.boolean().default(false),
  })
  .refine((c) => (c.desiredState ? !c.repo : Boolean(c.repo)), { error: "give exactly one of --desired-state DIR or --repo URL" })
  .refine((c) => c.verifyCommits !== "ssh" || Boolean(c.allowedSigners), { error: "--verify-commits ssh needs --allowed-signers FILE" })
  .refine((c) => c.verifyCommits !== "gpg" || Boolean(c.gpgKeyring), { error: "--verify-commits gpg needs --gpg-keyring DIR" })
  .refine((c) => !c.verifyCommits || Boolean(c.repo), {
    error: "--verify-commits works with --repo (berth syncs and verifies the commits itself)",
  })
  .refine((c) => !c.verifyRange || Boolean(c.verifyCommits), { error: "--verify-range needs --verify-commits" })
  .refine((c) => !c.noRollback || Boolean(c.repo), { error: "--no-rollback works with --repo (berth syncs the commits itself)" })
  .refine((c) => c.listenInsecure || isLoopbackHost(c.listen.slice(0, c.listen.lastIndexOf(":"))), {
    error:
      "--listen on a non-loopback address serves metrics, status and the API unencrypted to the network: keep 127.0.0.1 and put " +
      "a TLS proxy in front (docs/security.md), or add --listen-insecure",
  })
  .refine((c) => !c.protectStatus || Boolean(c.apiTokenFile), { error: "--protect-status needs --api-token-file" });

/** 127.0.0.0/8, ::1 and localhost: reachable only from this host. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

export type AgentConfig = z.output<typeof configSchema>;

/** Flag name → environment variable: --state-dir ↔ BERTH_STATE_DIR. */
export function envName(flag: string): string {
  return `BERTH_${flag.toUpperCase().replace(/-/g, "_")}`;
}

export function agentConfig(args: CommandArgs, env: NodeJS.ProcessEnv): { ok: true; config: AgentConfig } | { ok: false; message: string } {
  const pick = (flag: keyof typeof AGENT_OPTIONS): string | boolean | undefined => {
    const value = args.flags[flag];
    if (typeof value === "string" || typeof value === "boolean") return value;
    const fromEnv = env[envName(flag)];
    if (fromEnv === undefined || fromEnv === "") return undefined;
    return AGENT_OPTIONS[flag].type === "boolean" ? fromEnv === "1" || fromEnv === "true" : fromEnv;
  };
  const raw = Object.fromEntries(
    Object.entries({
      desiredState: pick("desired-state") ?? args.positionals[0],
      repo: pick("repo"),
      branch: pick("branch"),
      machine: pick("machine"),
      stateDir: pick("state-dir"),
      listen: pick("listen"),
      logLevel: pick("log-level"),
      apiTokenFile: pick("api-token-file"),
      webhookSecretFile: pick("webhook-secret-file"),
      verifyCommits: pick("verify-commits"),
      allowedSigners: pick("allowed-signers"),
      gpgKeyring: pick("gpg-keyring"),
      fetchIntervalSeconds: pick("fetch-interval"),
      stackConcurrency: pick("stack-concurrency"),
      policy: pick("policy"),
      once: pick("once"),
      verifyRange: pick("verify-range"),
      noRollback: pick("no-rollback"),
      listenInsecure: pick("listen-insecure"),
      protectStatus: pick("protect-status"),
    }).filter(([, v]) => v !== undefined),
  );
  const parsed = configSchema.safeParse(raw);
  return parsed.success ? { ok: true, config: parsed.data } : { ok: false, message: z.prettifyError(parsed.error) };
}
