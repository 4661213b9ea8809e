import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DockerCredentials, RegistryCredentials } from "../../platform/docker-credentials.ts";
import { createRegistryClient, parseChallenge, refusedByRegistry } from "./registry-client.ts";

function credentials(byHost: Record<string, RegistryCredentials>): DockerCredentials {
  return { forHost: (host) => Promise.resolve(byHost[host]) };
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ server: Server; host: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("parseChallenge", () => {
  it("reads realm and service of a Bearer challenge, whose scope holds commas", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      ),
    ).toEqual({
      scheme: "bearer",
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
    });
    expect(parseChallenge('bearer realm="https://ghcr.io/token"')).toEqual({ scheme: "bearer", realm: "https://ghcr.io/token" });
  });

  it("knows Basic, and ignores a Bearer challenge without a realm and unknown schemes", () => {
    expect(parseChallenge('Basic realm="registry"')).toEqual({ scheme: "basic" });
    expect(parseChallenge('Bearer service="x"')).toBeUndefined();
    expect(parseChallenge("Negotiate abc")).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe("registry client: the token (Bearer realm) flow against a token server on loopback", () => {
  let registry: { server: Server; host: string };
  let auth: { server: Server; host: string };
  const tokenRequests: { method: string; scope: string | null; authorization: string | undefined; body: string }[] = [];
  const present = new Set(["team/app/manifests/v1", "team/lib/manifests/v1"]);

  beforeAll(async () => {
    auth = await listen((req, res, body) => {
      const url = new URL(req.url ?? "/", "http://x");
      const form = new URLSearchParams(body);
      const scope = url.searchParams.get("scope") ?? form.get("scope");
      tokenRequests.push({ method: req.method ?? "", scope, authorization: req.headers.authorization, body });
      const ok =
        req.headers.authorization === basic("robot", "pw") ||
        (form.get("grant_type") === "refresh_token" && form.get("refresh_token") === "refresh-1");
      if (!ok || (url.searchParams.get("service") ?? form.get("service")) !== "test-registry") {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: `tok ${scope}`, expires_in: 300 }));
    });
    registry = await listen((req, res) => {
      const path = (req.url ?? "").replace(/^\/v2\//, "");
      const repository = path.replace(/\/manifests\/.*$/, "");
      if (req.headers.authorization !== `Bearer tok repository:${repository}:pull`) {
        res
          .writeHead(401, {
            "www-authenticate": `Bearer realm="http://${auth.host}/token",service="test-registry",scope="repository:${repository}:pull"`,
          })
          .end();
        return;
      }
      if (repository === "team/secret") {
        res.writeHead(403).end();
        return;
      }
      res.writeHead(present.has(path) ? 200 : 404, { "docker-content-digest": "sha256:abc" }).end();
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => registry.server.close(resolve));
    await new Promise((resolve) => auth.server.close(resolve));
  });

  it("gets a token with the host's credentials once per repository scope and reuses it", async () => {
    tokenRequests.length = 0;
    const client = createRegistryClient({
      credentials: credentials({ [registry.host]: { kind: "basic", username: "robot", password: "pw" } }),
    });

    const view = await client.check(registry.host, [
      `${registry.host}/team/app:v1`,
      `${registry.host}/team/app:v2`,
      `${registry.host}/team/lib:v1`,
    ]);

    expect(view).toEqual({
      kind: "reachable",
      host: registry.host,
      present: new Set([`${registry.host}/team/app:v1`, `${registry.host}/team/lib:v1`]),
    });
    expect(tokenRequests.map((r) => [r.method, r.scope]).sort()).toEqual([
      ["GET", "repository:team/app:pull"],
      ["GET", "repository:team/lib:pull"],
    ]);
    expect(await client.manifestExists(`${registry.host}/team/app:v1`)).toBe("present");
    expect(tokenRequests).toHaveLength(2);
  });

  it("asks for a new token once the cached one expired", async () => {
    tokenRequests.length = 0;
    let clock = 1_000_000;
    const client = createRegistryClient({
      credentials: credentials({ [registry.host]: { kind: "basic", username: "robot", password: "pw" } }),
      now: () => clock,
    });
    await client.manifestExists(`${registry.host}/team/app:v1`);
    clock += 301_000;

    expect(await client.manifestExists(`${registry.host}/team/app:v1`)).toBe("present");
    expect(tokenRequests).toHaveLength(2);
  });

  it("exchanges an identity token (refresh_token grant, POST) instead of a password", async () => {
    tokenRequests.length = 0;
    const client = createRegistryClient({ credentials: credentials({ [registry.host]: { kind: "identityToken", token: "refresh-1" } }) });

    expect(await client.manifestExists(`${registry.host}/team/app:v1`)).toBe("present");
    expect(tokenRequests[0]).toMatchObject({ method: "POST", authorization: undefined });
    expect(new URLSearchParams(tokenRequests[0]?.body).get("grant_type")).toBe("refresh_token");
  });

  it(
    "reads a refused token (wrong or no credentials) and a 403 as unauthorized, never as absent, and never quotes the " + "secret",
    async () => {
      const wrong = createRegistryClient({
        credentials: credentials({ [registry.host]: { kind: "basic", username: "robot", password: "wrong-pw" } }),
      });
      const anonymous = createRegistryClient({ credentials: credentials({}) });
      const right = createRegistryClient({
        credentials: credentials({ [registry.host]: { kind: "basic", username: "robot", password: "pw" } }),
      });

      const refused = await wrong.manifestExists(`${registry.host}/team/app:v1`);
      const noCreds = await anonymous.manifestExists(`${registry.host}/team/app:v1`);
      const forbidden = await right.manifestExists(`${registry.host}/team/secret:v1`);

      expect(refused).toEqual({
        unauthorized: expect.stringContaining("refused repository:team/app:pull (401) with the Docker credentials"),
      });
      expect(noCreds).toEqual({ unauthorized: expect.stringContaining("without credentials") });
      expect(forbidden).toEqual({ unauthorized: expect.stringContaining("answered 403") });
      expect(JSON.stringify([refused, noCreds, forbidden])).not.toMatch(/wrong-pw|cm9ib3Q/);
    },
  );

  it("lists refused tags as denied while the registry stays reachable for the others", async () => {
    const client = createRegistryClient({
      credentials: credentials({ [registry.host]: { kind: "basic", username: "robot", password: "pw" } }),
    });

    const view = await client.check(registry.host, [`${registry.host}/team/app:v1`, `${registry.host}/team/secret:v1`]);

    expect(view).toMatchObject({ kind: "reachable", present: new Set([`${registry.host}/team/app:v1`]) });
    expect(view.kind === "reachable" ? [...(view.denied?.keys() ?? [])] : []).toEqual([`${registry.host}/team/secret:v1`]);
  });
});

describe("registry client: Basic challenge on a plain-HTTP loopback registry", () => {
  let registry: { server: Server; host: string };

  beforeAll(async () => {
    registry = await listen((req, res) => {
      if (req.headers.authorization !== basic("ci", "pw")) res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end();
      else res.writeHead(req.url?.endsWith("/v1") ? 200 : 404).end();
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => registry.server.close(resolve));
  });

  it("retries with the host's user and password, and says to log in when the host has none", async () => {
    const withCreds = createRegistryClient({
      credentials: credentials({ [registry.host]: { kind: "basic", username: "ci", password: "pw" } }),
    });
    const without = createRegistryClient({ credentials: credentials({}) });

    expect(await withCreds.manifestExists(`${registry.host}/a/b:v1`)).toBe("present");
    expect(await withCreds.manifestExists(`${registry.host}/a/b:v2`)).toBe("absent");
    expect(await without.manifestExists(`${registry.host}/a/b:v1`)).toEqual({
      unauthorized: expect.stringContaining(`docker login ${registry.host}`),
    });
  });

  it("turns a credential store that cannot be read into unauthorized, naming the host", async () => {
    const client = createRegistryClient({
      credentials: { forHost: () => Promise.reject(new Error("/root/.docker/config.json: is not valid JSON")) },
    });
    expect(await client.manifestExists(`${registry.host}/a/b:v1`)).toEqual({
      unauthorized: expect.stringContaining(`credentials for ${registry.host} could not be read`),
    });
  });
});

describe("refusedByRegistry", () => {
  it("recognises docker's refusal messages and nothing else", () => {
    expect(refusedByRegistry('Error response from daemon: Head "https://127.0.0.1:5000/v2/x/manifests/1": no basic auth credentials')).toBe(
      true,
    );
    expect(refusedByRegistry("unauthorized: authentication required")).toBe(true);
    expect(refusedByRegistry("denied: requested access to the resource is denied")).toBe(true);
    expect(refusedByRegistry("manifest unknown: manifest unknown")).toBe(false);
    expect(refusedByRegistry("dial tcp 127.0.0.1:5000: connect: connection refused")).toBe(false);
  });
});
