// The agent's HTTP endpoint on a real loopback socket with a recording API: body limits (413),
// the webhook signature checked while streaming, the Host check, bearer tokens.
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentApi } from "./http-server.ts";
import { MAX_API_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES, startHttpServer } from "./http-server.ts";

const TOKEN = "t0ken";
const SECRET = "hook-secret";

type Reply = { status: number; body: string };

function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function call(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string; endBody?: boolean },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    // The server may answer and close before the whole body is sent: that is the point.
    req.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? undefined : reject(error)));
    if (options.body !== undefined) req.write(options.body);
    if (options.endBody !== false) req.end();
  });
}

describe("agent HTTP server", () => {
  let calls: string[];
  let port: number;
  let close: () => Promise<void>;
  let headersTimeout: number;

  function api(): AgentApi {
    return {
      metrics: () => Promise.resolve({ contentType: "text/plain", body: "m 1\n" }),
      ready: () => true,
      status: () => Promise.resolve({ machine: "pc2" }),
      reconcile: () => void calls.push("reconcile"),
      rollback: () => Promise.resolve({ ok: true, message: "" }),
      retry: (target) => {
        calls.push(`retry ${target.stack}/${target.service}`);
        return Promise.resolve({ ok: true, message: "" });
      },
      gitWebhook: () => void calls.push("webhook"),
    };
  }

  async function start(options: { protectStatus?: boolean } = {}): Promise<void> {
    const http = await startHttpServer(api(), { host: "127.0.0.1", port: 0, apiToken: TOKEN, webhookSecret: SECRET, ...options });
    port = Number(http.address.split(":").pop());
    close = http.close;
    headersTimeout = http.server.headersTimeout;
  }

  beforeEach(async () => {
    calls = [];
    await start();
  });
  afterEach(async () => {
    await close();
  });

  it("answers 413 to an API body over the limit, and does not act on it", async () => {
    const body = JSON.stringify({ target: "web/app", pad: "x".repeat(MAX_API_BODY_BYTES) });
    const reply = await call(port, {
      method: "POST",
      path: "/api/v1/retry",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body,
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toContain("request body larger than 64 KiB");
    expect(calls).toEqual([]);
  });

  it("answers 413 to a signed webhook body over the limit", async () => {
    const body = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20);
    const reply = await call(port, {
      method: "POST",
      path: "/hooks/git",
      headers: { "x-hub-signature-256": webhookSignature(body.toString(), SECRET) },
      body,
    });
    expect(reply.status).toBe(413);
    expect(calls).toEqual([]);
  });

  it("refuses an unsigned webhook before reading its body (no buffering of an unsigned body)", async () => {
    // 64 KiB sent, the request never finished: the answer must come anyway.
    const reply = await call(port, {
      method: "POST",
      path: "/hooks/git",
      headers: { "transfer-encoding": "chunked" },
      body: Buffer.alloc(64 * 1024, 0x20),
      endBody: false,
    });
    expect(reply.status).toBe(401);
    expect(calls).toEqual([]);
  });

  it("checks the webhook signature over the streamed body: a valid one triggers a sync, a wrong one does not", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main" });
    expect(
      (
        await call(port, {
          method: "POST",
          path: "/hooks/git",
          headers: { "x-hub-signature-256": webhookSignature(body, `${SECRET}-wrong`) },
          body,
        })
      ).status,
    ).toBe(401);
    expect(
      (await call(port, { method: "POST", path: "/hooks/git", headers: { "x-hub-signature-256": webhookSignature(body, SECRET) }, body }))
        .status,
    ).toBe(202);
    expect(calls).toEqual(["webhook"]);
  });

  it("refuses a Host header that is not a loopback name (DNS rebinding)", async () => {
    const evil = await call(port, { path: "/api/v1/status", headers: { host: `evil.example:${port}` } });
    const local = await call(port, { path: "/api/v1/status", headers: { host: `localhost:${port}` } });
    const ipv6 = await call(port, { path: "/healthz", headers: { host: `[::1]:${port}` } });
    expect(evil.status).toBe(421);
    expect(local.status).toBe(200);
    expect(ipv6.status).toBe(200);
  });

  it("takes the bearer scheme in any case", async () => {
    const reply = await call(port, {
      method: "POST",
      path: "/api/v1/retry",
      headers: { authorization: `bearer ${TOKEN}` },
      body: JSON.stringify({ target: "web/app" }),
    });
    expect(reply.status).toBe(200);
    expect(calls).toEqual(["retry web/app"]);
    expect((await call(port, { method: "POST", path: "/api/v1/reconcile", headers: { authorization: "Bearer nope" } })).status).toBe(401);
  });

  it("protects GET /api/v1/status with the token when asked to", async () => {
    await close();
    await start({ protectStatus: true });
    expect((await call(port, { path: "/api/v1/status" })).status).toBe(401);
    const withToken = await call(port, { path: "/api/v1/status", headers: { authorization: `BEARER ${TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect(JSON.parse(withToken.body)).toEqual({ machine: "pc2" });
    expect((await call(port, { path: "/metrics" })).status).toBe(200);
  });

  it("bounds how long a client may take to send its headers", () => {
    expect(headersTimeout).toBe(10_000);
  });
});
