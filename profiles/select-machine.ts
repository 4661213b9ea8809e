// Chooses this host's machine: --machine, then BERTH_MACHINE, then the host policy's `machine`,
// then a hostname match in berth.yaml (which the repo controls, so the policy's pin beats it).
import type { BerthFile } from "../desired-state/berth-file-schema.ts";

type How = "flag" | "env" | "policy" | "hostname";

export type MachineSelection = { ok: true; machine: string; how: How } | { ok: false; message: string };

export function selectMachine(
  berth: Pick<BerthFile, "machines">,
  options: { flag?: string; env?: string; policy?: string; hostname: string },
): MachineSelection {
  const known = Object.keys(berth.machines);
  const pick = (machine: string, how: How): MachineSelection =>
    known.includes(machine)
      ? { ok: true, machine, how }
      : { ok: false, message: `machine "${machine}" is not in berth.yaml machines (known: ${known.join(", ")})` };
  if (options.flag) return pick(options.flag, "flag");
  if (options.env) return pick(options.env, "env");
  if (options.policy) return pick(options.policy, "policy");
  const host = options.hostname.toLowerCase();
  const matches = Object.entries(berth.machines).filter(([, spec]) => (spec.hostnames ?? []).some((h) => h.toLowerCase() === host));
  if (matches.length === 1 && matches[0]) return { ok: true, machine: matches[0][0], how: "hostname" };
  if (matches.length > 1)
    return { ok: false, message: `hostname "${options.hostname}" matches several machines: ${matches.map(([m]) => m).join(", ")}` };
  return {
    ok: false,
    message: `no machine selected: pass --machine or BERTH_MACHINE, or list hostname "${options.hostname}" under a machine in berth.yaml`,
  };
}
