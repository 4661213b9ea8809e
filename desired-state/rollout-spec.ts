// How a service rolls out: the fleet's rollout defaults, berth.yaml's `rollout:` and a service's
// `x-berth.rollout`, each over the one before; compose's `deploy.update_config.order:
// start-first` asks for start-first when x-berth names no strategy.
import type { RolloutFileSpec } from "./berth-file-schema.ts";
import type { RolloutSpec } from "./desired-state.ts";

export function rolloutSpec(base: RolloutSpec, file: RolloutFileSpec | undefined, updateOrder?: unknown): RolloutSpec {
  return {
    strategy: file?.strategy ?? (updateOrder === "start-first" ? "start-first" : base.strategy),
    healthTimeoutSeconds: file?.healthTimeout ?? base.healthTimeoutSeconds,
    monitorSeconds: file?.monitor ?? base.monitorSeconds,
    history: file?.history ?? base.history,
  };
}
