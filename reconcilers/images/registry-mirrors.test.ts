// Mirrors, as logic: the look falls back to the mirrors in order only when the primary does not
// answer, answers come back in the primary's names, and the planner pulls from the mirror and
// builds without pushing what the mirror lacks.
import { describe, expect, it } from "vitest";
import { mirrorReference, planImages } from "./plan-images.ts";
import type { PlanImageInput, RegistryView } from "./plan-images.ts";
import { checkRegistries } from "./registry-mirrors.ts";

const PRIMARY = "ghcr.io/org";
const APP = `${PRIMARY}/app:0123456789ab-m1`;
const LIB = `${PRIMARY}/lib:ba9876543210`;

/** A registry world by host: "down", or the refs it has (and refuses). */
type FakeHost = "down" | { has: string[]; refuses?: string[] };

function fakeClient(hosts: Record<string, FakeHost>): {
  asked: string[];
  check: (host: string, tags: readonly string[]) => Promise<RegistryView>;
} {
  const asked: string[] = [];
  return {
    asked,
    async check(host, tags) {
      asked.push(host);
      const world = hosts[host] ?? "down";
      if (world === "down") return { kind: "unreachable", host, message: `dial tcp ${host}: connection refused` };
      const denied = new Map(tags.filter((t) => world.refuses?.includes(t)).map((t) => [t, "401"]));
      return { kind: "reachable", host, present: new Set(tags.filter((t) => world.has.includes(t))), ...(denied.size ? { denied } : {}) };
    },
  };
}

describe("checkRegistries", () => {
  it("asks only the primary while it answers, even when a tag is missing", async () => {
    const client = fakeClient({ "ghcr.io": { has: [APP] }, "127.0.0.1:5001": { has: [] } });

    const view = await checkRegistries(client, { registry: PRIMARY, registryMirrors: ["127.0.0.1:5001/org"] }, [APP, LIB]);

    expect(client.asked).toEqual(["ghcr.io"]);
    expect(view).toEqual({ kind: "reachable", host: "ghcr.io", present: new Set([APP]) });
  });

  it("treats a primary that refuses (401) as answering: no mirror", async () => {
    const client = fakeClient({
      "ghcr.io": { has: [], refuses: [APP] },
      "127.0.0.1:5001": { has: ["127.0.0.1:5001/org/app:0123456789ab-m1"] },
    });

    const view = await checkRegistries(client, { registry: PRIMARY, registryMirrors: ["127.0.0.1:5001/org"] }, [APP]);

    expect(client.asked).toEqual(["ghcr.io"]);
    expect(view).toMatchObject({ kind: "reachable", denied: new Map([[APP, "401"]]) });
  });

  it("falls back to the first mirror that answers, with the answers in the primary's names", async () => {
    const client = fakeClient({
      "ghcr.io": "down",
      "127.0.0.1:5001": "down",
      "127.0.0.1:5002": { has: ["127.0.0.1:5002/org/app:0123456789ab-m1"] },
    });

    const view = await checkRegistries(client, { registry: PRIMARY, registryMirrors: ["127.0.0.1:5001/org", "127.0.0.1:5002/org"] }, [
      APP,
      LIB,
    ]);

    expect(client.asked).toEqual(["ghcr.io", "127.0.0.1:5001", "127.0.0.1:5002"]);
    expect(view).toMatchObject({ kind: "reachable", host: "ghcr.io", present: new Set([APP]), mirror: { prefix: "127.0.0.1:5002/org" } });
    expect(view.kind === "reachable" && view.mirror?.primaryMessage).toContain("connection refused");
  });

  it("is unreachable, naming every registry asked, when no mirror answers either", async () => {
    const client = fakeClient({});

    const view = await checkRegistries(client, { registry: PRIMARY, registryMirrors: ["127.0.0.1:5001/org"] }, [APP]);

    expect(view.kind).toBe("unreachable");
    expect(view.kind === "unreachable" && view.message).toMatch(/ghcr\.io.*mirror 127\.0\.0\.1:5001\/org/);
  });
});

describe("planImages with a mirror standing in", () => {
  const mirror = { prefix: "127.0.0.1:5001/mirror", primary: PRIMARY, primaryMessage: "connection refused" };
  const view: RegistryView = { kind: "reachable", host: "ghcr.io", present: new Set([APP]), mirror };
  const image = (tag: string, extra: Partial<PlanImageInput> = {}): PlanImageInput => ({
    name: tag.split("/")[2]?.split(":")[0] ?? tag,
    inputHash: "0".repeat(64),
    tag,
    parents: [],
    source: "auto",
    push: true,
    ...extra,
  });

  it("maps the primary prefix to the mirror's", () => {
    expect(mirrorReference(APP, mirror)).toBe("127.0.0.1:5001/mirror/app:0123456789ab-m1");
    expect(mirrorReference("elsewhere.io/x:1", mirror)).toBe("elsewhere.io/x:1");
  });

  it("pulls from the mirror under the primary tag, and builds what the mirror lacks without pushing", () => {
    const steps = planImages({ images: [image(APP), image(LIB)], localImages: [], registry: view });

    expect(steps[0]).toMatchObject({ action: "pull", reason: "InMirror", tag: APP, from: "127.0.0.1:5001/mirror/app:0123456789ab-m1" });
    expect(steps[0]?.message).toContain("connection refused");
    expect(steps[1]).toMatchObject({ action: "build", reason: "RegistryUnreachable", push: false });
    expect(steps[1]?.message).toContain("mirror 127.0.0.1:5001/mirror lacks");
  });

  it("stalls a pull-only image the mirror lacks", () => {
    const [step] = planImages({ images: [image(LIB, { source: "pull" })], localImages: [], registry: view });

    expect(step).toMatchObject({ action: "stalled", reason: "NotInRegistry" });
  });
});
