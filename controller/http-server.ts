// The agent's HTTP endpoint: metrics, health, readiness, the status API, mutating API calls
// behind a bearer token, and the git webhook behind GitHub's HMAC signature.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";

export type AgentApi = {
  metrics(): Promise<{ contentType: string; body: string }>;
  ready(): boolean;
  status(): Promise<unknown>;
  reconcile(): void;
  rollback(target: { stack: string; service: string; to?: number }): Promise<{ ok: boolean; message: string }>;
  retry(target: { stack: string; service: string }): Promise<{ ok: boolean; message: string }>;
  /** Handles a git webhook; returns false when the signature is wrong or missing. */
  gitWebhook(body: Buffer, signature: string | undefined): Promise<boolean>;
};

export type HttpOptions = { host: string; port: number; apiToken?: string; webhookEnabled: boolean };

const MAX_BODY_BYTES = 1024 * 1024;

const targetSchema = z.strictObject({
  target: z.string().regex(/^[a-z0-9][a-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "target must be STACK/SERVICE" }),
  to: z.int().min(1).optional(),
});

export async function startHttpServer(api: AgentApi, options: HttpOptions): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
        return send(res, 200, await api.status());
      case "POST /hooks/git": {
        if (!options.webhookEnabled) return send(res, 404, { error: "the git webhook is off (no --webhook-secret-file)" });
        const body = await readBody(req);
        const header = req.headers["x-hub-signature-256"];
        const accepted = await api.gitWebhook(body, Array.isArray(header) ? header[0] : header);
        return accepted ? send(res, 202, { status: "sync started" }) : send(res, 401, { error: "bad or missing X-Hub-Signature-256" });
      }
      case "POST /api/v1/reconcile":
      case "POST /api/v1/rollback":
      case "POST /api/v1/retry": {
        if (!options.apiToken) return send(res, 404, { error: "mutating endpoints are off (no --api-token-file)" });
        if (!bearerMatches(req.headers.authorization, options.apiToken)) return send(res, 401, { error: "missing or wrong bearer token" });
        if (route === "POST /api/v1/reconcile") {
          api.reconcile();
          return send(res, 202, { status: "reconcile queued" });
        }
        const body = await readBody(req);
        let json: unknown;
        try {
          json = JSON.parse(body.toString("utf8") || "{}");
        } catch {
          return send(res, 400, { error: "body must be JSON" });
        }
        const parsed = targetSchema.safeParse(json);
        if (!parsed.success) return send(res, 400, { error: z.prettifyError(parsed.error) });
        const [stack = "", service = ""] = parsed.data.target.split("/");
        const result = route === "POST /api/v1/rollback" ? await api.rollback({ stack, service, ...(parsed.data.to ? { to: parsed.data.to } : {}) }) : await api.retry({ stack, service });
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
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(`${JSON.stringify(body)}\n`);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? "");
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error("request body larger than 1 MiB");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
