// Loads dockerode with two of its modules deferred to their first use: BuildKit's gRPC session
// (@grpc/grpc-js, protobufjs; berth builds through `docker buildx`, never dockerode's buildImage)
// and docker-modem's ssh transport (ssh2; only an ssh:// engine uses it). They were more than
// half of dockerode's load time, paid by every command that talks to the engine (docs/decisions.md).
import Module, { createRequire } from "node:module";
import type Docker from "dockerode";

const require = createRequire(import.meta.url);

let loaded: typeof Docker | undefined;

export function loadDockerode(): typeof Docker {
  if (loaded) return loaded;
  const fromDockerode = createRequire(require.resolve("dockerode"));
  deferFunctionModule(fromDockerode, "./session.js");
  deferFunctionModule(createRequire(fromDockerode.resolve("docker-modem")), "./ssh.js");
  loaded = require("dockerode") as typeof Docker;
  return loaded;
}

/**
 * Puts a stand-in into the require cache for a module that exports one function: the real module
 * is loaded on the stand-in's first call. A module that moved in a newer version is left alone.
 */
function deferFunctionModule(from: NodeJS.Require, request: string): void {
  let path: string;
  try {
    path = from.resolve(request);
  } catch {
    return;
  }
  if (require.cache[path]) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      delete require.cache[path];
      real = from(request) as (...args: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  require.cache[path] = standIn;
}
