// The agent's HTTP endpoint: metrics, health, readiness, the status API, mutating API calls
// behind a bearer token, and the git webhook behind GitHub's HMAC signature. Bounded: body size
// limits (413), header and request timeouts, a Host check against DNS rebinding on loopback.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { githubSignatureCheck } from "../desired-state/webhook-signature.ts";
import { parseServiceRef } from "../reconcilers/stacks/manual-actions.ts";
import { isLoopbackHost } from "./agent-config.ts";

export type AgentApi = {
  metrics(): Promise<{ contentType: string; body: string }>;
  ready(): boolean;
  status(): Promise<unknown>;
  reconcile(): void;
  rollback(target: { stack: string; service: string; to?: number }): Promise<{ ok: boolean; message: string }>;
  retry(target: { stack: string; service: string }): Promise<{ ok: boolean; message: string }>;
  /** A git webhook with a valid signature arrived. */
  gitWebhook(): void;
};

export type HttpOptions = {
  host: string;
  port: number;
  apiToken?: string;
  /** Enables POST /hooks/git; the signature is checked while the body streams in. */
  webhookSecret?: string;
  /** GET /api/v1/status needs the bearer token too. */
  protectStatus?: boolean;
};

/** API bodies are a target and a number; GitHub push payloads are far below 1 MiB. */
export const MAX_API_BODY_BYTES = 64 * 1024;
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_CONNECTIONS = 64;

const targetSchema = z.strictObject({
  target: z.string().regex(/^[a-z0-9][a-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "target must be STACK/SERVICE" }),
  to: z.int().min(1).optional(),
});

class BodyTooLarge extends Error {}

export async function startHttpServer(
  api: AgentApi,
  options: HttpOptions,
): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (error instanceof BodyTooLarge) return tooLarge(res, error.message);
        if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  // On loopback, only loopback names: a page on evil.example whose name resolves to 127.0.0.1
  // (DNS rebinding) sends `Host: evil.example` and is refused.
  const checkHost = isLoopbackHost(options.host);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (checkHost && !isLoopbackHost(hostName(req.headers.host)))
      return send(res, 421, { error: "the Host header must name this host's loopback (127.0.0.1, ::1 or localhost)" });
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method ?? "GET"} ${url.pathname}`;
    switch (route) {
      case "GET /metrics": {
        const { contentType, body } = await api.metrics();
        res.writeHead(200, { "content-type": contentType });
        res.end(body);
        return;
      }
      case "GET /healthz":
        return send(res, 200, { status: "ok" });
      case "GET /readyz":
        return api.ready() ? send(res, 200, { status: "ready" }) : send(res, 503, { status: "not ready: no pass completed yet" });
      case "GET /api/v1/status":
        if (options.protectStatus && !bearerMatches(req.headers.authorization, options.apiToken))
          return send(res, 401, { error: "missing or wrong bearer token" });
        return send(res, 200, await api.status());
      case "POST /hooks/git": {
        if (!options.webhookSecret) return send(res, 404, { error: "the git webhook is off (no --webhook-secret-file)" });
        const header = req.headers["x-hub-signature-256"];
        const check = githubSignatureCheck(Array.isArray(header) ? header[0] : header, options.webhookSecret);
        if (!check) return refuse(res, 401, { error: "bad or missing X-Hub-Signature-256" });
        await streamBody(req, MAX_WEBHOOK_BODY_BYTES, (chunk) => check.update(chunk));
        if (!check.matches()) return send(res, 401, { error: "bad or missing X-Hub-Signature-256" });
        api.gitWebhook();
        return send(res, 202, { status: "sync started" });
      }
      case "POST /api/v1/reconcile":
      case "POST /api/v1/rollback":
      case "POST /api/v1/retry": {
        if (!options.apiToken) return refuse(res, 404, { error: "mutating endpoints are off (no --api-token-file)" });
        if (!bearerMatches(req.headers.authorization, options.apiToken))
          return refuse(res, 401, { error: "missing or wrong bearer token" });
        if (route === "POST /api/v1/reconcile") {
          api.reconcile();
          return send(res, 202, { status: "reconcile queued" });
        }
        const chunks: Buffer[] = [];
        await streamBody(req, MAX_API_BODY_BYTES, (chunk) => chunks.push(chunk));
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        } catch {
          return send(res, 400, { error: "body must be JSON" });
        }
        const parsed = targetSchema.safeParse(json);
        if (!parsed.success) return send(res, 400, { error: z.prettifyError(parsed.error) });
        const { stack, service } = parseServiceRef(parsed.data.target) ?? { stack: "", service: "" };
        const result =
          route === "POST /api/v1/rollback"
            ? await api.rollback({ stack, service, ...(parsed.data.to ? { to: parsed.data.to } : {}) })
            : await api.retry({ stack, service });
        return send(res, result.ok ? 200 : 409, result);
      }
      default:
        return send(res, 404, { error: `no route ${route}` });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const info = server.address();
  const address = typeof info === "object" && info ? `${info.address}:${info.port}` : `${options.host}:${options.port}`;
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(`${JSON.stringify(body)}\n`);
}

/** Answers without reading the body, and closes the connection rather than draining it. */
function refuse(res: ServerResponse, status: number, body: unknown): void {
  res.setHeader("connection", "close");
  send(res, status, body);
}

function tooLarge(res: ServerResponse, message: string): void {
  if (res.headersSent) return;
  refuse(res, 413, { error: message });
}

/** `Host: name:port` → name (IPv6 keeps its brackets off). */
function hostName(header: string | undefined): string {
  if (!header) return "";
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed?.[1]) return bracketed[1];
  return header.replace(/:\d+$/, "");
}

function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  // RFC 7235: the auth scheme is case-insensitive.
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  if (!match?.[1] || !token) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Hands each chunk on as it arrives; more than `limit` bytes (declared or sent) is BodyTooLarge. */
async function streamBody(req: IncomingMessage, limit: number, onChunk: (chunk: Buffer) => void): Promise<void> {
  const tooLargeMessage = `request body larger than ${limit / 1024} KiB`;
  if (Number(req.headers["content-length"] ?? 0) > limit) throw new BodyTooLarge(tooLargeMessage);
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw new BodyTooLarge(tooLargeMessage);
    onChunk(buffer);
  }
}
