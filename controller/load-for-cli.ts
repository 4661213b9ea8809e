// Loads a desired state the way every CLI command and the agent do (with compose
// normalisation, cached on disk in the state dir), picks this host's machine the same way
// everywhere, applies the host policy, and resolves the engine a command drives once from its environment.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DesiredState } from "../desired-state/desired-state.ts";
import type { LoadResult } from "../desired-state/load-desired-state.ts";
import { formatProblem } from "../desired-state/problem.ts";
import type { Problem } from "../desired-state/problem.ts";
import { admittedState } from "../policy/admitted-state.ts";
import { checkHostPolicy } from "../policy/check-host-policy.ts";
import { loadPolicy } from "../policy/load-policy.ts";
import { createComposeCli } from "../platform/compose-cli.ts";
import { selectEngine } from "../platform/engine-selection.ts";
import type { EngineSelection } from "../platform/engine-selection.ts";
import { selectMachine } from "../profiles/select-machine.ts";
import type { CliIo, CommandArgs } from "./cli-io.ts";
import { stringFlag } from "./cli-io.ts";
import { cachedDesiredState } from "./desired-state-cache.ts";

const selections = new WeakMap<CliIo, EngineSelection>();

/**
 * The engine a command drives, from its environment (DOCKER_HOST, the docker context, the default
 * socket), resolved once per invocation. Throws EngineSelectionError, which `main` prints.
 */
export function cliEngine(io: CliIo): EngineSelection {
  let selection = selections.get(io);
  if (!selection) {
    selection = selectEngine(io.env);
    selections.set(io, selection);
  }
  return selection;
}

/** The state dir a CLI command works with: --state-dir, BERTH_STATE_DIR, or the agent's default. */
export function cliStateDir(args: CommandArgs | undefined, env: NodeJS.ProcessEnv): string {
  return (args ? stringFlag(args, "state-dir") : undefined) ?? env["BERTH_STATE_DIR"] ?? "/var/lib/berth";
}

/** Where `docker compose config` results are kept across processes, keyed by content. */
export function composeCacheDir(stateDir: string): string {
  return join(stateDir, "cache", "compose");
}

/**
 * `io` names the environment compose normalises with (its engine selection); without it, the
 * process's. Compose results are cached in `stateDir`'s cache across processes.
 */
export async function loadForCli(dir: string, io?: CliIo, stateDir = cliStateDir(undefined, io?.env ?? process.env)): Promise<LoadResult> {
  const childEnv = io ? cliEngine(io).childEnv : undefined;
  return cachedDesiredState(
    dir,
    join(stateDir, "cache", "desired-state"),
    { code: await bundleIdentity(), environment: JSON.stringify(childEnv ?? {}) },
    async () => {
      // Loaded only when nothing is cached: the loader's schemas and YAML parsing are most of a warm command's work.
      const [{ loadDesiredState }, { createComposeNormalizer }] = await Promise.all([
        import("../desired-state/load-desired-state.ts"),
        import("../desired-state/normalize-compose.ts"),
      ]);
      const compose = createComposeCli(childEnv ? { env: childEnv } : {});
      return loadDesiredState(dir, { compose: createComposeNormalizer(compose, { cacheDir: composeCacheDir(stateDir) }) });
    },
  );
}

/**
 * The bundle's identity: this chunk's text, which names every chunk it imports by content hash,
 * so any change to the loader changes it. Under tsx (the sources) there is none: nothing is cached.
 */
async function bundleIdentity(): Promise<string | undefined> {
  if (!import.meta.url.endsWith(".js")) return undefined;
  const text = await readFile(fileURLToPath(import.meta.url), "utf8").catch(() => undefined);
  return text === undefined ? undefined : createHash("sha256").update(text).digest("hex");
}

/**
 * The first positional as a desired state, validated, the machine from --machine, BERTH_MACHINE,
 * the host policy or the hostname, and the policy's verdict: `state` is what the host admits
 * (no builds for refused stacks) and `denied` names each refused stack's problems. Problems are
 * printed; `code` is the exit code then.
 */
export async function loadWithMachine(
  args: CommandArgs,
  io: CliIo,
  usage: string,
): Promise<
  { ok: true; dir: string; state: DesiredState; machine: string; denied: ReadonlyMap<string, Problem[]> } | { ok: false; code: number }
> {
  const dir = args.positionals[0];
  if (!dir) {
    io.stderr(`${usage}\n`);
    return { ok: false, code: 2 };
  }
  const policy = await loadPolicy(stringFlag(args, "policy"));
  if (!policy.ok) {
    for (const problem of policy.problems) io.stderr(`${formatProblem(problem)}\n`);
    return { ok: false, code: 2 };
  }
  const loaded = await loadForCli(dir, io, cliStateDir(args, io.env));
  if (!loaded.ok) {
    for (const problem of loaded.problems) io.stderr(`${formatProblem(problem)}\n`);
    return { ok: false, code: 1 };
  }
  const flag = stringFlag(args, "machine");
  const env = io.env["BERTH_MACHINE"];
  const selection = selectMachine(loaded.state, {
    ...(flag ? { flag } : {}),
    ...(env ? { env } : {}),
    ...(policy.policy.machine ? { policy: policy.policy.machine } : {}),
    hostname: hostname(),
  });
  if (!selection.ok) {
    io.stderr(`${selection.message}\n`);
    return { ok: false, code: 2 };
  }
  // Loaded here, not with this module: `berth validate` never talks to the engine.
  const { createDockerEngine } = await import("../platform/docker-engine.ts");
  const denials = await checkHostPolicy(policy.policy, loaded.state, selection.machine, {
    env: io.env,
    engine: createDockerEngine(cliEngine(io)),
  });
  if (denials.fleet.length > 0) {
    for (const problem of denials.fleet) io.stderr(`${formatProblem(problem)}\n`);
    return { ok: false, code: 1 };
  }
  return { ok: true, dir, state: admittedState(loaded.state, denials.stacks), machine: selection.machine, denied: denials.stacks };
}
