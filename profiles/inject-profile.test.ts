import { describe, expect, it } from "vitest";
import { profileBuildArgs, profileJson, serviceEnvironment } from "./inject-profile.ts";

const pc2 = { OMP_NUM_THREADS: "4", CUDA_ARCH: "8.6", UVICORN_WORKERS: "8" };

describe("profile injection", () => {
  it("passes only the build args the Dockerfile declares", () => {
    expect(profileBuildArgs("pc2", pc2, new Set(["MACHINE", "CUDA_ARCH"]))).toEqual({ MACHINE: "pc2", CUDA_ARCH: "8.6" });
  });

  it("passes nothing to a Dockerfile that declares no profile variable", () => {
    expect(profileBuildArgs("pc2", pc2, new Set(["OTHER"]))).toEqual({});
  });

  it("gives MACHINE_PROFILE as JSON with sorted keys", () => {
    expect(profileBuildArgs("pc2", pc2, new Set(["MACHINE_PROFILE"]))).toEqual({
      MACHINE_PROFILE: '{"CUDA_ARCH":"8.6","OMP_NUM_THREADS":"4","UVICORN_WORKERS":"8"}',
    });
    expect(JSON.parse(profileJson(pc2))).toEqual(pc2);
  });

  it("lets a service's own environment win over the profile", () => {
    expect(serviceEnvironment("pc2", pc2, { OMP_NUM_THREADS: "2", LOG: null })).toEqual({
      MACHINE: "pc2",
      OMP_NUM_THREADS: "2",
      CUDA_ARCH: "8.6",
      UVICORN_WORKERS: "8",
      LOG: null,
    });
  });

  it("escapes $ in injected values so compose keeps them literal, leaving the service's own (already escaped) values alone", () => {
    const env = serviceEnvironment("m$1", { TOKEN: "${BERTH_REPO}", PRICE: "5$" }, { OWN: "$$HOME" });
    expect(env).toEqual({ MACHINE: "m$$1", TOKEN: "$${BERTH_REPO}", PRICE: "5$$", OWN: "$$HOME" });
  });
});
