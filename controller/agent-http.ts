// The agent's HTTP side: metrics, readiness, the status view (with the managed containers as last
// listed), and the API calls (reconcile, rollback, retry, git webhook), which only queue keys.
import type { Registry } from "prom-client";
import type { DockerEngine } from "../platform/docker-engine.ts";
import type { Clock } from "../platform/clock.ts";
import { LABELS } from "../platform/labels.ts";
import { renderExposition } from "../metrics/metrics-handler.ts";
import type { WorkKey } from "../reconcilers/reconciler.ts";
import type { PassState } from "../reconcilers/source/pass-state.ts";
import { pinServiceRollback, retryService } from "../reconcilers/stacks/manual-actions.ts";
import type { ImageResolver } from "../reconcilers/stacks/third-party-images.ts";
import type { StatusStore } from "../status/status-store.ts";
import type { AgentConfig } from "./agent-config.ts";
import { startHttpServer } from "./http-server.ts";
import { buildStatusView } from "./status-view.ts";
import type { EngineView, StatusView } from "./status-view.ts";

export type AgentView = { statusView(): Promise<StatusView> };

/** The status view, listing the managed containers again each time (the last list when the engine does not answer). */
export function agentStatusView(input: {
  config: AgentConfig;
  engine: Pick<DockerEngine, "listContainers">;
  store: StatusStore;
  state: PassState;
  engineView: () => EngineView;
}): AgentView {
  let containers: Awaited<ReturnType<DockerEngine["listContainers"]>> = [];
  return {
    async statusView() {
      containers = await input.engine.listContainers({ label: [`${LABELS.managed}=true`] }).catch(() => containers);
      return buildStatusView({
        machine: input.state.desired?.machine ?? input.config.machine ?? "unknown",
        ready: input.state.passes.completedOnce(),
        statuses: input.store.all(),
        containers,
        engine: input.engineView(),
      });
    },
  };
}

export async function startAgentHttp(input: {
  config: AgentConfig;
  registry: Registry;
  view: AgentView;
  store: StatusStore;
  clock: Clock;
  state: PassState;
  git: boolean;
  secrets: { apiToken?: string; webhookSecret?: string };
  newResolver: (machine: string) => ImageResolver;
  enqueue: (key: WorkKey) => void;
  requestPass: () => void;
}): Promise<{ address: string; close(): Promise<void> }> {
  const { config, store, state, enqueue } = input;
  return startHttpServer(
    {
      metrics: () => renderExposition(input.registry),
      ready: () => state.passes.completedOnce(),
      status: () => input.view.statusView(),
      reconcile: input.requestPass,
      rollback: async ({ stack, service, to }) => {
        const result = await pinServiceRollback(store, { stack, service, to: to ?? 1, now: input.clock.now() });
        if (result.ok) enqueue({ kind: "stack", name: stack });
        return result;
      },
      retry: async ({ stack, service }) => {
        const result = await retryService(store, { stack, service });
        // A fresh resolver: the pass's may remember a pull of this very reference.
        if (result.ok && state.images && state.desired)
          state.images = { ...state.images, resolver: input.newResolver(state.desired.machine) };
        if (result.ok) enqueue({ kind: "stack", name: stack });
        return result;
      },
      gitWebhook: () => enqueue({ kind: input.git ? "git" : "source" }),
    },
    {
      host: config.listen.slice(0, config.listen.lastIndexOf(":")),
      port: Number(config.listen.slice(config.listen.lastIndexOf(":") + 1)),
      ...input.secrets,
      protectStatus: config.protectStatus,
    },
  );
}
