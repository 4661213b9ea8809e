// A small Docker Engine API client over the Unix socket (node:http): JSON requests and a
// line-delimited JSON stream. Unversioned paths: the engine answers with its own API version,
// so nothing is pinned (field notes §3).
import { request } from "node:http";
import type { IncomingMessage } from "node:http";

export class EngineApiError extends Error {
  readonly statusCode: number;
  constructor(method: string, path: string, statusCode: number, message: string) {
    super(`${method} ${path}: ${statusCode} ${message}`);
    this.name = "EngineApiError";
    this.statusCode = statusCode;
  }
}

export type EngineHttp = {
  json<T>(method: "GET" | "POST" | "DELETE", path: string, query?: Record<string, string | number | boolean | undefined>, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<T>;
  /** Streams lines until the engine ends the response; `onOpen` runs once the engine has answered. */
  stream(path: string, query: Record<string, string | number | undefined>, signal: AbortSignal, onLine: (line: string) => void, onOpen?: () => void): Promise<void>;
};

function pathWithQuery(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export function createEngineHttp(socketPath: string): EngineHttp {
  function send(method: string, path: string, signal?: AbortSignal, timeoutMs?: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath, path, method, headers: { host: "docker", "content-type": "application/json" }, ...(signal ? { signal } : {}) }, resolve);
      if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer from the engine in ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  async function readAll(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  return {
    async json<T>(method: "GET" | "POST" | "DELETE", path: string, query?: Record<string, string | number | boolean | undefined>, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
      const full = pathWithQuery(path, query);
      const res = await send(method, full, options.signal, options.timeoutMs ?? 60_000);
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status >= 400) {
        let message = text.trim();
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // plain-text error body
        }
        throw new EngineApiError(method, full, status, message);
      }
      return (text.trim() === "" ? undefined : JSON.parse(text)) as T;
    },
    async stream(path, query, signal, onLine, onOpen) {
      const full = pathWithQuery(path, query);
      const res = await send("GET", full, signal);
      if ((res.statusCode ?? 0) >= 400) throw new EngineApiError("GET", full, res.statusCode ?? 0, await readAll(res));
      onOpen?.();
      let partial = "";
      await new Promise<void>((resolve, reject) => {
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          partial += chunk;
          const lines = partial.split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) if (line.trim()) onLine(line);
        });
        res.on("end", () => resolve());
        res.on("close", () => resolve());
        res.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
      });
    },
  };
}
