// Keeps a service's local rollback tags in line with its status: `current`, `rollback-1..N`.
import type { ServiceStatus, RollbackEntry } from "../../status/resource-status.ts";
import { currentTag, rollbackTag } from "./rollback-history.ts";
import type { StackContext } from "./stack-context.ts";

export async function retagService(
  ctx: Pick<StackContext, "engine" | "logger">,
  stack: string,
  service: string,
  status: ServiceStatus,
  dropped: readonly RollbackEntry[],
): Promise<void> {
  try {
    const history = status.history ?? [];
    const tags = [
      ...(status.current?.imageId ? [ctx.engine.tagImage(status.current.imageId, currentTag(stack, service))] : []),
      ...history.map((entry, i) => ctx.engine.tagImage(entry.imageId, rollbackTag(stack, service, i + 1))),
    ];
    await Promise.all(tags);
    for (let k = history.length + 1; k <= history.length + dropped.length; k += 1)
      await ctx.engine.removeImage(rollbackTag(stack, service, k));
  } catch (error) {
    ctx.logger.warn({ stack, service, error: error instanceof Error ? error.message : String(error) }, "rollback tags not updated");
  }
}
