// Asks an OCI registry whether tags exist (HEAD /v2/<repo>/manifests/<tag>, 3 s timeout), with
// plain HTTP for loopback registries and the anonymous bearer-token dance for public ones.
import type { RegistryView } from "./plan-images.ts";

export type ManifestCheck = "present" | "absent" | { unreachable: string };

export type RegistryClient = {
  manifestExists(ref: string): Promise<ManifestCheck>;
  /** Asks about every tag; the first network failure makes the whole registry unreachable. */
  check(host: string, tags: readonly string[]): Promise<RegistryView>;
};

const ACCEPT = [
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
  return colon > rest.lastIndexOf("/") ? { host, repository: rest.slice(0, colon), tag: rest.slice(colon + 1) } : { host, repository: rest, tag: "latest" };
}

/** Registry host part of `<registry>` as configured (it may carry a namespace path). */
export function registryHost(registry: string): string {
  return registry.split("/")[0] ?? registry;
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\./.test(name);
}

export function createRegistryClient(options: { timeoutMs?: number; concurrency?: number } = {}): RegistryClient {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const tokens = new Map<string, string>();

  async function token(challenge: string, repository: string): Promise<string | undefined> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const realm = params["realm"];
    if (!realm) return undefined;
    const url = new URL(realm);
    if (params["service"]) url.searchParams.set("service", params["service"]);
    url.searchParams.set("scope", `repository:${repository}:pull`);
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { token?: string; access_token?: string };
    return body.token ?? body.access_token;
  }

  async function manifestExists(ref: string): Promise<ManifestCheck> {
    const { host, repository, tag } = parseImageRef(ref);
    const url = `${isLoopback(host) ? "http" : "https"}://${host}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
    try {
      const headers: Record<string, string> = { accept: ACCEPT };
      const cached = tokens.get(`${host}/${repository}`);
      if (cached) headers["authorization"] = `Bearer ${cached}`;
      let res = await fetch(url, { method: "HEAD", headers, signal: AbortSignal.timeout(timeoutMs) });
      const challenge = res.headers.get("www-authenticate");
      if (res.status === 401 && challenge?.startsWith("Bearer")) {
        const fresh = await token(challenge, repository);
        if (fresh) {
          tokens.set(`${host}/${repository}`, fresh);
          res = await fetch(url, { method: "HEAD", headers: { ...headers, authorization: `Bearer ${fresh}` }, signal: AbortSignal.timeout(timeoutMs) });
        }
      }
      if (res.status === 200) return "present";
      if (res.status === 404 || res.status === 401 || res.status === 403) return "absent";
      return { unreachable: `HEAD ${url} answered ${res.status}` };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return { unreachable: `${error instanceof Error ? error.message : String(error)}${cause}` };
    }
  }

  return {
    manifestExists,
    async check(host, tags) {
      const present = new Set<string>();
      const queue = [...tags];
      let failure: string | undefined;
      async function worker(): Promise<void> {
        for (let ref = queue.shift(); ref !== undefined && failure === undefined; ref = queue.shift()) {
          const result = await manifestExists(ref);
          if (result === "present") present.add(ref);
          else if (typeof result === "object") failure = result.unreachable;
        }
      }
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, Math.max(queue.length, 1)) }, worker));
      return failure === undefined ? { kind: "reachable", host, present } : { kind: "unreachable", host, message: failure };
    },
  };
}
