// The HTTP handler the agent mounts at /metrics: one exposition of the injected registry per GET.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";

export function metricsHandler(registry: Registry): (req: IncomingMessage, res: ServerResponse) => void {
  return function handleMetrics(req, res) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        res
          .writeHead(500, { "content-type": "text/plain; charset=utf-8" })
          .end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
}

/** One exposition as content type and body (the agent's `metrics()` API and the CLI use it). */
export async function renderExposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
