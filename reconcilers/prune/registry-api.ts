// The OCI distribution calls registry retention makes, over berth's one authenticated request
// function: list a repository's tags, a tag's digest, an image's creation time, delete a manifest.
import { headerText, headManifest, MANIFEST_ACCEPT } from "../images/registry-client.ts";
import type { RegistryHttp, RegistryResponse } from "../images/registry-client.ts";

export type DeleteOutcome =
  { kind: "deleted" } | { kind: "missing" } | { kind: "unsupported"; message: string } | { kind: "failed"; message: string };

export type RegistryApi = {
  /** Every tag of the repository ([] when the registry does not know it), following `Link` pagination. */
  listTags(host: string, repository: string): Promise<string[]>;
  /** HEAD of the tag with the manifest Accept types → Docker-Content-Digest (undefined when absent). */
  digestOf(host: string, repository: string, tag: string): Promise<string | undefined>;
  /** The image config's `created` (unix ms) of a manifest (an index: of its first manifest); undefined when unknown. */
  createdAt(host: string, repository: string, digest: string): Promise<number | undefined>;
  /** DELETE /v2/<repository>/manifests/<digest>: 405 or UNSUPPORTED is `unsupported` (the registry does not allow deletes). */
  deleteManifest(host: string, repository: string, digest: string): Promise<DeleteOutcome>;
};

const PAGE = 1000;

function json(res: RegistryResponse): unknown {
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function failed(res: RegistryResponse, what: string): Error {
  return new Error(`${what}: ${res.url} answered ${res.status} ${res.body.toString("utf8").slice(0, 300).trim()}`);
}

export function createRegistryApi(http: RegistryHttp): RegistryApi {
  async function get(host: string, repository: string, path: string, accept?: string): Promise<RegistryResponse> {
    return http.request({ method: "GET", host, repository, path, ...(accept ? { accept } : {}) });
  }

  return {
    async listTags(host, repository) {
      const tags: string[] = [];
      let path: string | undefined = `tags/list?n=${PAGE}`;
      while (path !== undefined) {
        const res = await get(host, repository, path);
        if (res.status === 404) return tags;
        if (res.status !== 200) throw failed(res, `listing the tags of ${host}/${repository}`);
        const body = json(res) as { tags?: unknown } | undefined;
        if (Array.isArray(body?.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === "string"));
        // `Link: </v2/<repository>/tags/list?last=x&n=1000>; rel="next"`
        const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(headerText(res.headers["link"]) ?? "")?.[1];
        const marker = `/v2/${repository}/`;
        path = next && next.includes(marker) ? next.slice(next.indexOf(marker) + marker.length) : undefined;
      }
      return tags;
    },

    async digestOf(host, repository, tag) {
      const res = await headManifest(http, host, repository, tag);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw failed(res, `HEAD of ${host}/${repository}:${tag}`);
      return headerText(res.headers["docker-content-digest"]);
    },

    async createdAt(host, repository, digest) {
      let res = await get(host, repository, `manifests/${digest}`, MANIFEST_ACCEPT);
      let manifest = json(res) as { manifests?: { digest?: unknown }[]; config?: { digest?: unknown } } | undefined;
      const first = manifest?.manifests?.[0]?.digest;
      if (res.status === 200 && typeof first === "string") {
        res = await get(host, repository, `manifests/${first}`, MANIFEST_ACCEPT);
        manifest = json(res) as typeof manifest;
      }
      const config = manifest?.config?.digest;
      if (res.status !== 200 || typeof config !== "string") return undefined;
      const blob = await get(host, repository, `blobs/${config}`);
      const created = blob.status === 200 ? (json(blob) as { created?: unknown } | undefined)?.created : undefined;
      const at = typeof created === "string" ? Date.parse(created) : Number.NaN;
      return Number.isFinite(at) ? at : undefined;
    },

    async deleteManifest(host, repository, digest) {
      let res: RegistryResponse;
      try {
        res = await http.request({ method: "DELETE", host, repository, path: `manifests/${digest}`, actions: "delete" });
      } catch (error) {
        return { kind: "failed", message: error instanceof Error ? error.message : String(error) };
      }
      if (res.status === 202 || res.status === 200) return { kind: "deleted" };
      if (res.status === 404) return { kind: "missing" };
      const text = res.body.toString("utf8").trim();
      if (res.status === 405 || /"code"\s*:\s*"UNSUPPORTED"/.test(text))
        return { kind: "unsupported", message: `${res.url} answered ${res.status}${text ? ` ${text.slice(0, 200)}` : ""}` };
      return { kind: "failed", message: `DELETE ${res.url} answered ${res.status}${text ? ` ${text.slice(0, 200)}` : ""}` };
    },
  };
}
