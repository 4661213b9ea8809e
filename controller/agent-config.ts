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
} as const;

const configSchema = z
  .strictObject({
    desiredState: z.string().min(1).optional(),
    repo: z.string().min(1).optional(),
    branch: z.string().min(1).default("main"),
    machine: z.string().min(1).optional(),
    stateDir: z.string().min(1).default("/var/lib/berth"),
    listen: z.string().regex(/^[^:]+:\d+$/, { error: "must be HOST:PORT, e.g. 127.0.0.1:9464" }).default("127.0.0.1:9464"),
    logLevel: z.union([z.literal("trace"), z.literal("debug"), z.literal("info"), z.literal("warn"), z.literal("error"), z.literal("silent")]).default("info"),
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
  })
  .refine((c) => (c.desiredState ? !c.repo : Boolean(c.repo)), { error: "give exactly one of --desired-state DIR or --repo URL" })
  .refine((c) => c.verifyCommits !== "ssh" || Boolean(c.allowedSigners), { error: "--verify-commits ssh needs --allowed-signers FILE" })
  .refine((c) => c.verifyCommits !== "gpg" || Boolean(c.gpgKeyring), { error: "--verify-commits gpg needs --gpg-keyring DIR" })
  .refine((c) => !c.verifyCommits || Boolean(c.repo), { error: "--verify-commits works with --repo (berth syncs and verifies the commits itself)" });

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
    }).filter(([, v]) => v !== undefined),
  );
  const parsed = configSchema.safeParse(raw);
  return parsed.success ? { ok: true, config: parsed.data } : { ok: false, message: z.prettifyError(parsed.error) };
}
