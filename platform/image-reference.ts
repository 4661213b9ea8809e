// Docker image references, parsed as the engine reads them (registry host, repository, tag or
// digest, the short "familiar" names in RepoTags and RepoDigests), and matched against a
// registries allowlist on path boundaries.
export type ImageRef = {
  /** Registry host as written, "docker.io" when the reference names none. */
  host: string;
  /** Repository path on the registry ("library/redis" for Docker Hub's official images). */
  repository: string;
  tag?: string;
  /** "sha256:…" when the reference is pinned by digest. */
  digest?: string;
  /** The repository as the engine lists it ("redis", "127.0.0.1:5000/cache"). */
  familiar: string;
};

const HUB = "docker.io";

/** Parses `[host/]path[:tag][@sha256:…]`; a first component with ".", ":" or "localhost" is a host. */
export function parseReference(ref: string): ImageRef {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const named = at >= 0 ? ref.slice(0, at) : ref;
  const colon = named.lastIndexOf(":");
  const hasTag = colon > named.lastIndexOf("/");
  const tag = hasTag ? named.slice(colon + 1) : digest ? undefined : "latest";
  const name = hasTag ? named.slice(0, colon) : named;
  const slash = name.indexOf("/");
  const explicitHost = slash >= 0 && isHost(name.slice(0, slash));
  const host = explicitHost ? name.slice(0, slash) : HUB;
  const path = explicitHost ? name.slice(slash + 1) : name;
  const repository = host === HUB && !path.includes("/") ? `library/${path}` : path;
  const familiar = host === HUB ? repository.replace(/^library\//, "") : `${host}/${repository}`;
  return { host, repository, familiar, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The engine's name for a tag reference ("redis:7", "127.0.0.1:5000/cache:1"). */
export function familiarTag(ref: ImageRef): string | undefined {
  return ref.tag ? `${ref.familiar}:${ref.tag}` : undefined;
}

/** `repo@sha256:…` as the engine lists it in RepoDigests. */
export function familiarDigest(ref: ImageRef, digest: string): string {
  return `${ref.familiar}@${digest}`;
}

/** `nginx:1` → `docker.io/library/nginx`; `127.0.0.1:5000/app@sha256:…` → `127.0.0.1:5000/app`. */
export function repositoryOf(ref: string): string {
  const parsed = parseReference(ref);
  return `${parsed.host}/${parsed.repository}`;
}

/** Whether `ref` (an image reference, or a registry prefix with `prefix: true`) lies under an allowlist entry. */
export function referenceAllowed(ref: string, allowlist: readonly string[], options: { prefix?: boolean } = {}): boolean {
  const repository = options.prefix ? prefixWithRegistry(ref) : repositoryOf(ref);
  return allowlist.some((entry) => {
    const allowed = prefixWithRegistry(entry);
    return repository === allowed || repository.startsWith(`${allowed}/`);
  });
}

/** A registry prefix ("ghcr.io/org", "127.0.0.1:5000", "acme") with Docker Hub made explicit ("docker.io/acme"). */
function prefixWithRegistry(prefix: string): string {
  return isHost(prefix.split("/")[0] ?? "") ? prefix : `${HUB}/${prefix}`;
}

function isHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}
