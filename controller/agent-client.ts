// Talks to a running agent's HTTP API for the CLI (status, reconcile, rollback, retry).
import { readFile } from "node:fs/promises";
import type { CliIo, CommandArgs } from "./cli-io.ts";
import { stringFlag } from "./cli-io.ts";

export type AgentClient = { url: string; token?: string };

export const CLIENT_OPTIONS = { agent: { type: "string" }, "api-token-file": { type: "string" } } as const;

/** The agent's URL: --agent, BERTH_AGENT_URL, or http:// + BERTH_LISTEN (default 127.0.0.1:9464). */
export async function agentClient(args: CommandArgs, io: CliIo): Promise<AgentClient> {
  const url = stringFlag(args, "agent") ?? io.env["BERTH_AGENT_URL"] ?? `http://${io.env["BERTH_LISTEN"] ?? "127.0.0.1:9464"}`;
  const tokenFile = stringFlag(args, "api-token-file") ?? io.env["BERTH_API_TOKEN_FILE"];
  const token = tokenFile ? (await readFile(tokenFile, "utf8")).trim() : undefined;
  return { url: url.replace(/\/$/, ""), ...(token ? { token } : {}) };
}

/** True when an agent answers /healthz within a second. */
export async function agentAnswers(client: AgentClient): Promise<boolean> {
  try {
    const response = await fetch(`${client.url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function callAgent(
  client: AgentClient,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${client.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(client.token ? { authorization: `Bearer ${client.token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, json };
}

export function messageOf(json: unknown): string {
  if (typeof json === "object" && json !== null) {
    if ("message" in json && typeof json.message === "string") return json.message;
    if ("error" in json && typeof json.error === "string") return json.error;
    if ("status" in json && typeof json.status === "string") return json.status;
  }
  return String(json);
}

/**
 * Sends a mutating call to the running agent when one answers (its in-memory state must not be
 * bypassed); returns the exit code, or undefined when no agent answers and the caller acts locally.
 * An explicit --state-dir means "act locally".
 */
export async function viaAgent(args: CommandArgs, io: CliIo, path: string, body: unknown): Promise<number | undefined> {
  if (stringFlag(args, "state-dir")) return undefined;
  const client = await agentClient(args, io);
  if (!(await agentAnswers(client))) return undefined;
  const { status, json } = await callAgent(client, "POST", path, body);
  (status === 200 ? io.stdout : io.stderr)(`${messageOf(json)}\n`);
  return status === 200 ? 0 : 1;
}
