// The agent's event sources, each of which only queues keys: docker events of its stacks, the git
// fetch interval or the desired-state directory watcher, and the periodic resync (rescheduled when
// berth.yaml's `resync` changes).
import { forMachine } from "../desired-state/desired-state.ts";
import { watchDesiredState } from "../desired-state/watch-desired-state.ts";
import type { Clock } from "../platform/clock.ts";
import type { DockerEngine, EngineEvent } from "../platform/docker-engine.ts";
import type { Logger } from "../platform/logger.ts";
import type { WorkKey } from "../reconcilers/reconciler.ts";
import { readyForStacks } from "../reconcilers/source/pass-state.ts";
import type { PassState } from "../reconcilers/source/pass-state.ts";
import { stackKey } from "../reconcilers/stacks/service-status.ts";
import type { StatusStore } from "../status/status-store.ts";
import type { AgentConfig } from "./agent-config.ts";
import { watchDockerEvents } from "./sources/docker-events-source.ts";
import { everyInterval } from "./sources/interval-source.ts";

export type AgentSources = {
  /** (Re)schedules the full resync every `seconds` (a no-op with --once or when unchanged). */
  resync(seconds: number): void;
  stop(): Promise<void>;
};

export function startAgentSources(input: {
  config: AgentConfig;
  git: boolean;
  engine: DockerEngine;
  clock: Clock;
  logger: Logger;
  store: StatusStore;
  state: PassState;
  enqueue: (key: WorkKey) => void;
  requestPass: () => void;
  onReconnect: () => void;
  onEngineEvent: (event: EngineEvent) => void;
}): AgentSources {
  const { config, logger, enqueue } = input;
  let resync: { seconds: number; stop(): void } | undefined;
  const stops: Array<() => Promise<void> | void> = [() => resync?.stop()];
  if (!config.once) {
    const events = watchDockerEvents({
      engine: input.engine,
      clock: input.clock,
      logger: logger.child({ source: "docker-events" }),
      onStackEvent: (stack) => {
        const ready = readyForStacks(input.state);
        if (!ready) return;
        // Only stacks this agent runs or ran: another agent's containers on a shared engine are not ours.
        const { state, machine } = ready.desired;
        const ours = input.store.get(stackKey(stack)) !== undefined || forMachine(state, machine).stacks.some((s) => s.name === stack);
        if (ours) enqueue({ kind: "stack", name: stack });
      },
      onReconnect: () => {
        input.onReconnect();
        enqueue({ kind: "source" });
      },
      onEvent: input.onEngineEvent,
    });
    stops.push(() => events.stop());
    if (input.git) {
      const fetch = everyInterval(config.fetchIntervalSeconds, () => enqueue({ kind: "git" }));
      stops.push(() => fetch.stop());
    } else if (config.desiredState) {
      const watcher = watchDesiredState(config.desiredState, () => enqueue({ kind: "source" }), {
        logger: logger.child({ source: "watch" }),
      });
      stops.push(() => watcher.close());
    }
  }
  return {
    resync(seconds) {
      if (config.once || resync?.seconds === seconds) return;
      resync?.stop();
      const timer = everyInterval(seconds, input.requestPass);
      resync = { seconds, stop: () => timer.stop() };
    },
    async stop() {
      for (const stop of stops) await stop();
    },
  };
}
