// `berth report DIR --machine NAME [--format md|json]`: the migration table (size against the
// baseline, shared bytes, build time, cache hits, budgets) from the status records and the engine.
import { desiredView } from "../../metrics/desired-view.ts";
import { imageSeries } from "../../metrics/image-series.ts";
import { migrationTable, renderMigrationTable } from "../../metrics/migration-table.ts";
import { createDockerEngine } from "../../platform/docker-engine.ts";
import { openStatusStore } from "../../status/status-store.ts";
import { stringFlag } from "../cli-io.ts";
import type { CommandSpec } from "../cli-io.ts";
import { loadWithMachine } from "../load-for-cli.ts";

export const reportCommand: CommandSpec = {
  name: "report",
  usage: [
    "Usage: berth report DIR [--machine NAME] [--state-dir DIR] [--policy FILE] [--format md|json]",
    "",
    "Per image of the machine: size, baseline (the declared `baseline:` image or sizeMiB, else the",
    "previous image of that name), reduction, bytes shared with the parent, build time, cache-hit",
    "ratio and whether its budgets are met. The numbers are those of `berth metrics`: build facts",
    "from the status records in --state-dir (default $BERTH_STATE_DIR or /var/lib/berth), sizes of",
    "baseline images from the Docker engine. Markdown by default.",
  ].join("\n"),
  options: { machine: { type: "string" }, "state-dir": { type: "string" }, policy: { type: "string" }, format: { type: "string" } },
  async run(args, io) {
    const format = stringFlag(args, "format") ?? "md";
    if (format !== "md" && format !== "json") {
      io.stderr(`berth report: --format is md or json, not "${format}"\n`);
      return 2;
    }
    const loaded = await loadWithMachine(args, io, reportCommand.usage);
    if (!loaded.ok) return loaded.code;
    const store = await openStatusStore(stringFlag(args, "state-dir") ?? io.env["BERTH_STATE_DIR"] ?? "/var/lib/berth");
    const images = await createDockerEngine().listImages();
    const series = imageSeries(store.all(), loaded.machine, {
      desired: desiredView(loaded.state, loaded.machine).images,
      presentImageIds: new Set(images.map((i) => i.id)),
      engineImages: images,
    });
    const table = migrationTable(series, loaded.machine, loaded.state.revision);
    io.stdout(format === "json" ? `${JSON.stringify(table, null, 2)}\n` : renderMigrationTable(table));
    return 0;
  },
};
