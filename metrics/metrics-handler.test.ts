// The /metrics handler on a loopback server: exposition on GET, 405 otherwise, 500 on a failing collector.
import { createServer } from "node:http";
import type { Server } from "node:http";
import { Gauge, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { metricsHandler } from "./metrics-handler.ts";

let server: Server | undefined;

async function serve(registry: Registry): Promise<string> {
  server = createServer(metricsHandler(registry));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return `http://127.0.0.1:${address.port}/metrics`;
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe("metricsHandler", () => {
  it("serves the registry's exposition with its content type", async () => {
    const registry = new Registry();
    new Gauge({ name: "berth_test_value", help: "a test value", registers: [registry] }).set(3);
    const url = await serve(registry);

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(registry.contentType);
    expect(await response.text()).toContain("berth_test_value 3");
  });

  it("refuses other methods", async () => {
    const url = await serve(new Registry());

    const response = await fetch(url, { method: "POST" });

    expect(response.status).toBe(405);
  });

  it("answers 500 with the reason when a collector throws", async () => {
    const registry = new Registry();
    new Gauge({
      name: "berth_broken",
      help: "throws",
      registers: [registry],
      collect() {
        throw new Error("boom");
      },
    });
    const url = await serve(registry);

    const response = await fetch(url);

    expect(response.status).toBe(500);
    expect(await response.text()).toContain("boom");
  });
});
