import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";

type Panel = { id: number; title: string; gridPos: { x: number; y: number; w: number; h: number } };

describe("the Grafana dashboard", () => {
  it("gives every panel its own id and its own place on the grid", async () => {
    const dashboard = JSON.parse(await readFile(new URL("./berth.json", import.meta.url), "utf8")) as { panels: Panel[] };
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Map<string, string>();
    const overlaps: string[] = [];
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      for (let col = x; col < x + w; col++)
        for (let row = y; row < y + h; row++) {
          const other = taken.get(`${col},${row}`);
          if (other !== undefined) overlaps.push(`${panel.title} over ${other}`);
          taken.set(`${col},${row}`, panel.title);
        }
    }
    expect([...new Set(overlaps)]).toEqual([]);
  });
});
