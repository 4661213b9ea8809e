// Talks to OCI registries the way docker does: one authenticated request function (challenge →
// Basic or Bearer token with the host's Docker credentials → retry; tokens cached per host and
// scope; TLS trusting /etc/docker/certs.d/<host>/*.crt; loopback falls back to plain HTTP), and
// the tag existence checks the images planner needs on top of it.
import { readdir, readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { createDockerCredentials } from "../../platform/docker-credentials.ts";
import type { DockerCredentials, RegistryCredentials } from "../../platform/docker-credentials.ts";
import { parseReference } from "../../platform/image-reference.ts";
import type { RegistryView } from "./plan-images.ts";

/** What the registry says a tag names now: `sha256:…` (the index digest for multi-platform images). */
export type DigestLookup =
  | { kind: "digest"; digest: string }
  | { kind: "failed"; reason: "NotInRegistry" | "RegistryUnreachable" | "RegistryUnauthorized"; message: string };

export type ManifestCheck = "present" | "absent" | { unreachable: string } | { unauthorized: string };

export type RegistryClient = {
  manifestExists(ref: string): Promise<ManifestCheck>;
  /** Asks about every tag; the first network failure makes the whole registry unreachable, a refused tag is `denied`. */
  check(host: string, tags: readonly string[]): Promise<RegistryView>;
  /** HEAD of the tag's manifest (index and manifest types accepted) → its Docker-Content-Digest. */
  resolveDigest(ref: string): Promise<DigestLookup>;
};

export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export type ParsedRef = { host: string; repository: string; tag: string };

export function parseImageRef(ref: string): ParsedRef {
  const slash = ref.indexOf("/");
  const host = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  return colon > rest.lastIndexOf("/")
    ? { host, repository: rest.slice(0, colon), tag: rest.slice(colon + 1) }
    : { host, repository: rest, tag: "latest" };
}

/** Registry host part of `<registry>` as configured (it may carry a namespace path). */
export function registryHost(registry: string): string {
  return registry.split("/")[0] ?? registry;
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\./.test(name);
}

/** One registry API call: `path` is below `/v2/<repository>/` (e.g. `manifests/<tag>`). */
export type RegistryRequest = {
  method: "HEAD" | "GET" | "DELETE";
  host: string;
  repository: string;
  path: string;
  accept?: string;
  /** Token scope actions; default "pull". */
  actions?: "pull" | "pull,push" | "delete";
};

export type RegistryResponse = { status: number; url: string; headers: IncomingHttpHeaders; body: Buffer };

/** A request that did not get an answer (`unreachable`) or was refused after authenticating (`unauthorized`, 401/403). */
export class RegistryError extends Error {
  readonly kind: "unreachable" | "unauthorized";
  constructor(kind: "unreachable" | "unauthorized", message: string) {
    super(message);
    this.name = "RegistryError";
    this.kind = kind;
  }
}

/** A failed request as a check result (other errors are bugs and are rethrown). */
export function failureOf(error: unknown): { unreachable: string } | { unauthorized: string } {
  if (error instanceof RegistryError)
    return error.kind === "unauthorized" ? { unauthorized: error.message } : { unreachable: error.message };
  throw error;
}

export type Challenge = { scheme: "basic" } | { scheme: "bearer"; realm: string; service?: string };

/** Parses a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  if (scheme === "basic") return { scheme: "basic" };
  if (scheme !== "bearer") return undefined;
  const params = new Map<string, string>();
  for (const m of (match?.[2] ?? "").matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    if (m[1]) params.set(m[1].toLowerCase(), (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1"));
  }
  const realm = params.get("realm");
  if (!realm) return undefined;
  const service = params.get("service");
  return service ? { scheme: "bearer", realm, service } : { scheme: "bearer", realm };
}

export type RegistryHttpOptions = {
  credentials?: DockerCredentials;
  timeoutMs?: number;
  /** Docker's per-registry trust directory (default /etc/docker/certs.d): `<dir>/<host>/*.crt` are extra CAs. */
  certsDir?: string;
  now?: () => number;
};

export type RegistryHttp = { request(req: RegistryRequest): Promise<RegistryResponse> };

/** `agent`: a keep-alive agent trusting the host's certs.d CAs (undefined: Node's default agent and roots). */
type RawRequest = { method: string; url: URL; headers: Record<string, string>; body?: string; agent: HttpsAgent | undefined };

const BODY_LIMIT = 1024 * 1024;
/** Tokens without `expires_in` live 60 s (distribution spec); refresh a little early. */
const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 5_000;

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

function errorText(error: unknown): string {
  const base = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code && !base.includes(code) ? `${base} (${code})` : base;
}

/** True when a TLS attempt failed because the server speaks plain HTTP (not a certificate problem). */
function plainHttpServer(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  return (
    code === "ERR_SSL_WRONG_VERSION_NUMBER" ||
    code === "EPROTO" ||
    code === "ECONNRESET" ||
    /wrong version number|packet length too long/i.test(String(error))
  );
}

function send(raw: RawRequest, timeoutMs: number): Promise<RegistryResponse> {
  return new Promise((resolve, reject) => {
    const secure = raw.url.protocol === "https:";
    const options = { method: raw.method, headers: raw.headers, timeout: timeoutMs, ...(secure && raw.agent ? { agent: raw.agent } : {}) };
    const req = (secure ? httpsRequest : httpRequest)(raw.url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= BODY_LIMIT) chunks.push(chunk);
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, url: raw.url.toString(), headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(raw.body);
  });
}

/** The authenticated request function every registry access of berth goes through. */
export function createRegistryHttp(options: RegistryHttpOptions = {}): RegistryHttp {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const credentials = options.credentials ?? createDockerCredentials();
  const certsDir = options.certsDir ?? "/etc/docker/certs.d";
  const now = options.now ?? Date.now;
  /** Per `<host> <scope>`; a promise so that parallel requests share one token request. */
  const tokens = new Map<string, Promise<{ token: string; expiresAt: number }>>();
  const challenges = new Map<string, Challenge>();
  const schemes = new Map<string, "https" | "http">();
  const trust = new Map<string, Promise<HttpsAgent | undefined>>();
  const creds = new Map<string, Promise<RegistryCredentials | undefined>>();

  /** One keep-alive agent per host with certs.d CAs (a TLS context with extra roots is costly to build per request). */
  function agentFor(host: string): Promise<HttpsAgent | undefined> {
    let found = trust.get(host);
    if (!found) {
      found = (async () => {
        const dir = join(certsDir, host);
        const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".crt")).sort();
        if (files.length === 0) return undefined;
        const ca = [...rootCertificates, ...(await Promise.all(files.map((f) => readFile(join(dir, f), "utf8"))))];
        return new HttpsAgent({ keepAlive: true, ca, timeout: 30_000 });
      })();
      trust.set(host, found);
    }
    return found;
  }

  function credentialsFor(host: string): Promise<RegistryCredentials | undefined> {
    let found = creds.get(host);
    if (!found) {
      found = credentials.forHost(host).catch((error: unknown) => {
        creds.delete(host);
        throw new RegistryError("unauthorized", `the Docker credentials for ${host} could not be read: ${errorText(error)}`);
      });
      creds.set(host, found);
    }
    return found;
  }

  /** Sends to the registry host: https (certs.d trusted); a loopback registry that speaks plain HTTP is asked over http, as docker does. */
  async function toRegistry(
    host: string,
    pathAndQuery: string,
    method: string,
    headers: Record<string, string>,
  ): Promise<RegistryResponse> {
    const apiHost = host === "docker.io" ? "registry-1.docker.io" : host;
    const scheme = schemes.get(host) ?? "https";
    const agent = await agentFor(host);
    try {
      const res = await send({ method, url: new URL(`${scheme}://${apiHost}${pathAndQuery}`), headers, agent }, timeoutMs);
      schemes.set(host, scheme);
      return res;
    } catch (error) {
      if (scheme === "https" && isLoopback(host) && schemes.get(host) !== "https" && plainHttpServer(error)) {
        schemes.set(host, "http");
        return toRegistry(host, pathAndQuery, method, headers);
      }
      throw new RegistryError("unreachable", `${method} ${scheme}://${apiHost}${pathAndQuery} failed: ${errorText(error)}`);
    }
  }

  async function bearerToken(
    host: string,
    challenge: Extract<Challenge, { scheme: "bearer" }>,
    scope: string,
    cred: RegistryCredentials | undefined,
  ): Promise<string> {
    const key = `${host} ${scope}`;
    const cached = tokens.get(key);
    const live = cached && (await cached.catch(() => undefined));
    if (live && live.expiresAt > now()) return live.token;
    if (tokens.get(key) !== cached) return bearerToken(host, challenge, scope, cred);
    const fresh = fetchToken(host, challenge, scope, cred);
    tokens.set(key, fresh);
    fresh.catch(() => {
      if (tokens.get(key) === fresh) tokens.delete(key);
    });
    return (await fresh).token;
  }

  async function fetchToken(
    host: string,
    challenge: Extract<Challenge, { scheme: "bearer" }>,
    scope: string,
    cred: RegistryCredentials | undefined,
  ): Promise<{ token: string; expiresAt: number }> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw new RegistryError("unreachable", `registry ${host} names an invalid token realm "${challenge.realm}"`);
    }
    // Credentials go only to a token server that is TLS-protected or on this machine.
    const sendable = cred && (realm.protocol === "https:" || isLoopback(realm.host)) ? cred : undefined;
    const headers: Record<string, string> = { accept: "application/json" };
    let method = "GET";
    let body: string | undefined;
    if (sendable?.kind === "identityToken") {
      method = "POST";
      headers["content-type"] = "application/x-www-form-urlencoded";
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: sendable.token, client_id: "berth", scope });
      if (challenge.service) form.set("service", challenge.service);
      body = form.toString();
    } else {
      if (challenge.service) realm.searchParams.set("service", challenge.service);
      realm.searchParams.set("scope", scope);
      if (sendable?.kind === "basic") headers["authorization"] = basicHeader(sendable.username, sendable.password);
    }
    const where = `${realm.origin}${realm.pathname}`;
    let res: RegistryResponse;
    try {
      // The token server is trusted like its registry (docker sends both over the registry's TLS configuration).
      res = await send({ method, url: realm, headers, ...(body !== undefined ? { body } : {}), agent: await agentFor(host) }, timeoutMs);
    } catch (error) {
      throw new RegistryError("unreachable", `token server ${where} of ${host} failed: ${errorText(error)}`);
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        "unauthorized",
        `token server ${where} refused ${scope} (${res.status}) ` +
          `${cred ? "with the Docker credentials for" : "without credentials for"} ${host}`,
      );
    }
    let token: string | undefined;
    let expiresIn = DEFAULT_TOKEN_SECONDS;
    if (res.status === 200) {
      try {
        const json = JSON.parse(res.body.toString("utf8")) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
        token = typeof json.token === "string" ? json.token : typeof json.access_token === "string" ? json.access_token : undefined;
        if (typeof json.expires_in === "number" && json.expires_in > 0) expiresIn = json.expires_in;
      } catch {
        token = undefined;
      }
    }
    if (!token) throw new RegistryError("unreachable", `token server ${where} of ${host} answered ${res.status} without a token`);
    return { token, expiresAt: now() + Math.max(expiresIn * 1000 - EXPIRY_MARGIN_MS, 1_000) };
  }

  async function authorization(host: string, challenge: Challenge, scope: string): Promise<string | undefined> {
    const cred = await credentialsFor(host);
    if (challenge.scheme === "bearer") return `Bearer ${await bearerToken(host, challenge, scope, cred)}`;
    return cred?.kind === "basic" ? basicHeader(cred.username, cred.password) : undefined;
  }

  async function request(req: RegistryRequest): Promise<RegistryResponse> {
    const scope = `repository:${req.repository}:${req.actions ?? "pull"}`;
    const path = `/v2/${req.repository}/${req.path}`;
    const headers: Record<string, string> = req.accept ? { accept: req.accept } : {};
    const known = challenges.get(req.host);
    const pre = known ? await authorization(req.host, known, scope) : undefined;
    let res = await toRegistry(req.host, path, req.method, pre ? { ...headers, authorization: pre } : headers);
    if (res.status === 401) {
      const challenge = parseChallenge(headerText(res.headers["www-authenticate"]));
      if (challenge) {
        challenges.set(req.host, challenge);
        // The token sent along was refused (revoked, or expired early): ask for a new one.
        if (pre?.startsWith("Bearer ")) tokens.delete(`${req.host} ${scope}`);
        const auth = await authorization(req.host, challenge, scope);
        if (auth) res = await toRegistry(req.host, path, req.method, { ...headers, authorization: auth });
        else
          throw new RegistryError(
            "unauthorized",
            `${req.method} ${res.url} answered 401 and the host has no Docker credentials for ${req.host} (docker login ${req.host})`,
          );
      }
    }
    if (res.status === 401 || res.status === 403) {
      const cred = await credentialsFor(req.host);
      throw new RegistryError(
        "unauthorized",
        `${req.method} ${res.url} answered ${res.status} ` +
          (cred
            ? `with the Docker credentials for ${req.host}`
            : `and the host has no Docker credentials for ${req.host} (docker login ${req.host})`),
      );
    }
    return res;
  }

  return { request };
}

const REFUSED_BY_REGISTRY = [
  /unauthorized|authentication required|no basic auth credentials/i,
  /denied: requested access|requested access to the resource is denied|403 forbidden/i,
];

/** True when docker's pull/push error text says the registry refused the host's credentials (or their absence). */
export function refusedByRegistry(text: string): boolean {
  return REFUSED_BY_REGISTRY.some((pattern) => pattern.test(text));
}

/** HEAD of a manifest by tag or digest, with the index and manifest Accept types. */
export function headManifest(http: RegistryHttp, host: string, repository: string, reference: string): Promise<RegistryResponse> {
  return http.request({ method: "HEAD", host, repository, path: `manifests/${encodeURIComponent(reference)}`, accept: MANIFEST_ACCEPT });
}

export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function createRegistryClient(options: RegistryHttpOptions & { concurrency?: number; http?: RegistryHttp } = {}): RegistryClient {
  const http = options.http ?? createRegistryHttp(options);

  async function manifestExists(ref: string): Promise<ManifestCheck> {
    const { host, repository, tag } = parseImageRef(ref);
    try {
      const res = await headManifest(http, host, repository, tag);
      if (res.status === 200) return "present";
      if (res.status === 404) return "absent";
      return { unreachable: `HEAD ${res.url} answered ${res.status}` };
    } catch (error) {
      return failureOf(error);
    }
  }

  async function resolveDigest(ref: string): Promise<DigestLookup> {
    const parsed = parseReference(ref);
    try {
      const res = await headManifest(http, parsed.host, parsed.repository, parsed.digest ?? parsed.tag ?? "latest");
      const digest = headerText(res.headers["docker-content-digest"]);
      if (res.status === 200 && digest) return { kind: "digest", digest };
      if (res.status === 404) return { kind: "failed", reason: "NotInRegistry", message: `${ref} is not in registry ${parsed.host}` };
      return {
        kind: "failed",
        reason: "RegistryUnreachable",
        message: `HEAD ${res.url} answered ${res.status}${res.status === 200 ? " without a Docker-Content-Digest" : ""}`,
      };
    } catch (error) {
      const failure = failureOf(error);
      return "unauthorized" in failure
        ? { kind: "failed", reason: "RegistryUnauthorized", message: failure.unauthorized }
        : { kind: "failed", reason: "RegistryUnreachable", message: failure.unreachable };
    }
  }

  return {
    manifestExists,
    resolveDigest,
    async check(host, tags) {
      const present = new Set<string>();
      const denied = new Map<string, string>();
      const queue = [...tags];
      let failure: string | undefined;
      async function worker(): Promise<void> {
        for (let ref = queue.shift(); ref !== undefined && failure === undefined; ref = queue.shift()) {
          const result = await manifestExists(ref);
          if (result === "present") present.add(ref);
          else if (result === "absent") continue;
          else if ("unauthorized" in result) denied.set(ref, result.unauthorized);
          else failure = result.unreachable;
        }
      }
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, Math.max(queue.length, 1)) }, worker));
      if (failure !== undefined) return { kind: "unreachable", host, message: failure };
      return denied.size > 0 ? { kind: "reachable", host, present, denied } : { kind: "reachable", host, present };
    },
  };
}
