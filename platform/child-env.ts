// The environment a child process inherits: the agent's own, minus every BERTH_* variable (its
// configuration may carry secrets, e.g. a token in BERTH_REPO) — no child needs them.
export function envWithoutBerth(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("BERTH_")));
}
