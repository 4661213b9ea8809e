// The engine as the agent's logs and status view name it: endpoint, what selected it, and its server
// version, asked at start and again when the event stream reconnects (an upgraded dockerd).
import type { DockerEngine } from "../platform/docker-engine.ts";
import { describeEngine } from "../platform/engine-selection.ts";
import type { EngineSelection } from "../platform/engine-selection.ts";
import type { Logger } from "../platform/logger.ts";
import type { EngineView } from "./status-view.ts";

export type EngineLook = { view(): EngineView; look(): Promise<void> };

export function createEngineLook(engine: Pick<DockerEngine, "engineInfo">, selection: EngineSelection, logger: Logger): EngineLook {
  let view: EngineView = { endpoint: selection.endpoint, source: describeEngine(selection) };
  return {
    view: () => view,
    async look() {
      try {
        const info = await engine.engineInfo();
        view = { endpoint: selection.endpoint, source: describeEngine(selection), serverVersion: info.serverVersion };
        logger.info(
          {
            engine: selection.endpoint,
            selectedBy: selection.source,
            ...(selection.context ? { context: selection.context } : {}),
            serverVersion: info.serverVersion,
            imageStore: info.imageStore,
          },
          "engine selected",
        );
      } catch (error) {
        view = {
          endpoint: selection.endpoint,
          source: describeEngine(selection),
          error: error instanceof Error ? error.message : String(error),
        };
        logger.warn({ engine: selection.endpoint, selectedBy: selection.source, err: view.error }, "engine not answering");
      }
    },
  };
}
