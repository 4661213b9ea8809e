// The slice of the desired state the metrics need for one machine: revision, services, image budgets and baselines.
import type { DesiredState } from "../desired-state/desired-state.ts";
import { forMachine } from "../desired-state/desired-state.ts";
import type { Budgets } from "../desired-state/budgets-schema.ts";
import type { Baseline } from "../desired-state/image-baseline.ts";
import type { Profile } from "../profiles/profile-schema.ts";

export type DesiredImageView = { name: string; budgets: Budgets; baseline?: Baseline };

export type DesiredView = {
  revision: string;
  services: { stack: string; service: string }[];
  images: Map<string, DesiredImageView>;
  profile?: Profile;
};

export function desiredView(state: DesiredState, machine: string): DesiredView {
  const mine = forMachine(state, machine);
  const profileName = state.machines[machine]?.profile;
  const profile = profileName === undefined ? undefined : state.profiles[profileName];
  return {
    revision: state.revision,
    services: mine.stacks.flatMap((stack) => stack.services.map((s) => ({ stack: stack.name, service: s.name }))),
    images: new Map(
      mine.images.map((image) => [
        image.name,
        { name: image.name, budgets: image.budgets, ...(image.baseline ? { baseline: image.baseline } : {}) },
      ]),
    ),
    ...(profile ? { profile } : {}),
  };
}
