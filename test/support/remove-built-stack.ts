// Test cleanup for a stack berth built and ran: its containers, network, built image tags and
// rollback tags (named by the compose project and the berth image name).
import { docker } from "./stacks-harness.ts";

export async function removeBuiltStack(project: string, image: string): Promise<void> {
  const ids = (await docker("ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`).catch(() => ""))
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) await docker("rm", "-f", ...ids).catch(() => "");
  await docker("network", "rm", `${project}_default`).catch(() => "");
  const tags = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", `label=io.berth.image=${image}`).catch(() => ""))
    .split("\n")
    .filter(Boolean);
  const rollback = (await docker("images", "--format", "{{.Repository}}:{{.Tag}}", `berth-rollback/${project}-*`).catch(() => ""))
    .split("\n")
    .filter(Boolean);
  for (const tag of [...tags, ...rollback]) await docker("rmi", tag).catch(() => "");
}
