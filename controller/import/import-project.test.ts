import { describe, expect, it } from "vitest";
import { importProject } from "./import-project.ts";
import type { PathKind } from "./import-project.ts";

const KINDS: Record<string, PathKind> = {
  "/srv/app/conf/nginx.conf": "file",
  "/srv/app/data": "dir",
  "/srv/app/certs": "dir",
  "/etc/ssl/shared": "dir",
  "/srv/app/secret.txt": "file",
};

function facts(services: Record<string, string>) {
  return {
    name: "app",
    workingDir: "/srv/app",
    services: new Map(Object.entries(services)),
    kindOf: (path: string) => KINDS[path] ?? "missing",
  };
}

describe("importing a compose project", () => {
  const model = {
    name: "app",
    services: {
      web: {
        image: "nginx:1",
        profiles: ["web"],
        // As `compose config` prints a literal "$".
        environment: { PRICE: "a$$b" },
        volumes: [
          { type: "bind", source: "/srv/app/conf/nginx.conf", target: "/etc/nginx/nginx.conf" },
          { type: "bind", source: "/srv/app/certs", target: "/certs", read_only: true },
          { type: "bind", source: "/srv/app/data", target: "/data" },
          { type: "bind", source: "/etc/ssl/shared", target: "/ssl", read_only: true },
          { type: "volume", source: "cache", target: "/cache" },
        ],
      },
      api: { build: { context: "/home/me/api" }, image: "app-api" },
      stopped: { image: "busybox" },
    },
    volumes: { cache: { name: "app_cache" } },
    secrets: { token: { name: "app_token", file: "/srv/app/secret.txt" } },
  };

  it("copies configuration, keeps data and outside paths absolute, and reports them", () => {
    const stack = importProject(model, facts({ web: "nginx:1", api: "app-api" }), "box");
    const web = (stack.compose["services"] as Record<string, Record<string, unknown>>)["web"] ?? {};
    expect(stack.compose["x-berth"]).toEqual({ machines: ["box"] });
    expect(Object.keys(stack.compose["services"] as object)).toEqual(["web", "api"]);
    expect(web["profiles"]).toBeUndefined();
    expect((web["volumes"] as Array<Record<string, unknown>>).map((v) => v["source"])).toEqual([
      "./conf/nginx.conf",
      "./certs",
      "/srv/app/data",
      "/etc/ssl/shared",
      "cache",
    ]);
    expect(stack.copies).toEqual([
      { from: "/srv/app/conf/nginx.conf", to: "conf/nginx.conf" },
      { from: "/srv/app/certs", to: "certs" },
      { from: "/srv/app/secret.txt", to: "secret.txt" },
    ]);
    expect(stack.compose["secrets"]).toEqual({ token: { name: "app_token", file: "./secret.txt" } });
    expect(stack.compose["volumes"]).toEqual({ cache: { name: "app_cache" } });
    // berth interpolates the file again: the literal "$" stays escaped.
    expect(web["environment"]).toEqual({ PRICE: "a$$b" });
    const report = stack.report.join("\n");
    expect(report).toContain("app/web: bind mount /srv/app/data → /data holds data");
    expect(report).toContain("app/web: absolute bind mount /etc/ssl/shared → /ssl");
    expect(report).toContain("app/api: built from the local context /home/me/api: berth runs the image that runs now (app-api)");
  });
});
