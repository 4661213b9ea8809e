import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadDesiredState } from "../../desired-state/load-desired-state.ts";
import { ciMatrix } from "./ci-matrix-command.ts";

describe("berth ci-matrix", () => {
  it("lists each distinct image tag once, shared images under one machine, GPU images per machine", async () => {
    const loaded = await loadDesiredState(fileURLToPath(new URL("../../examples/fleet", import.meta.url)), {
      revision: "1234567890abcdef",
    });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));

    const { include, problems } = await ciMatrix(loaded.state);

    expect(problems).toEqual([]);
    expect(include.filter((row) => row.image === "base-python")).toHaveLength(1);
    expect(include.filter((row) => row.image === "base-gpu").map((row) => row.machine)).toEqual(["mainpc"]);
    expect(new Set(include.map((row) => row.tag)).size).toBe(include.length);
    const order = include.map((row) => row.image);
    expect(order.indexOf("base-python")).toBeLessThan(order.indexOf("base-utils"));
  });
});
