// Image references as the registries allowlist sees them: Docker's normalisation (docker.io,
// library/), tag and digest dropped, matched against allowlist prefixes on path boundaries.

/** `nginx:1` → `docker.io/library/nginx`; `127.0.0.1:5000/app@sha256:…` → `127.0.0.1:5000/app`. */
export function repositoryOf(ref: string): string {
  const withoutDigest = ref.split("@")[0] ?? ref;
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return withDefaultRegistry(name, true);
}

/** Whether `ref` (an image reference, or a registry prefix with `prefix: true`) lies under an allowlist entry. */
export function referenceAllowed(ref: string, allowlist: readonly string[], options: { prefix?: boolean } = {}): boolean {
  const repository = options.prefix ? withDefaultRegistry(ref, false) : repositoryOf(ref);
  return allowlist.some((entry) => {
    const allowed = withDefaultRegistry(entry, false);
    return repository === allowed || repository.startsWith(`${allowed}/`);
  });
}

function withDefaultRegistry(name: string, library: boolean): string {
  const first = name.split("/")[0] ?? "";
  const hasRegistry = first.includes(".") || first.includes(":") || first === "localhost";
  if (hasRegistry) return name;
  return `docker.io/${library && !name.includes("/") ? "library/" : ""}${name}`;
}
