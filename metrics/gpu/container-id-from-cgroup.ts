// Maps a process to its Docker container through the text of /proc/<pid>/cgroup (v1 and v2).
const PATTERNS = [
  // cgroupfs driver, v1 and v2: /docker/<id> (nested engines: the last one wins)
  /\/docker\/([0-9a-f]{64})(?=\/|$)/g,
  // systemd driver: /system.slice/docker-<id>.scope, rootless: …/user@1000.service/…/docker-<id>.scope
  /\/docker-([0-9a-f]{64})\.scope(?=\/|$)/g,
];

/** The full container id the process belongs to, or undefined when it is not in a Docker container. */
export function containerIdFromCgroup(text: string): string | undefined {
  let found: { id: string; at: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    // hierarchy-ID:controller-list:cgroup-path; the path may itself contain ":".
    const path = line.split(":").slice(2).join(":");
    if (!path) continue;
    for (const pattern of PATTERNS) {
      for (const match of path.matchAll(pattern)) {
        const id = match[1];
        if (id && (!found || (match.index ?? 0) >= found.at)) found = { id, at: match.index ?? 0 };
      }
    }
    if (found) return found.id;
  }
  return undefined;
}
