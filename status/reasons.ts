// The PascalCase condition reasons each kind of status record may carry, one constant object per kind.
import type { StatusKind } from "./resource-status.ts";

/** The reason `finalizeStatus` gives a Ready condition no writer has set yet (nothing judged). */
const Pending = "Pending";

/** Image records: the build/pull outcome (Ready, Stalled), a warning (Degraded) and budgets (BudgetExceeded). */
export const ImageReason = {
  Pending,
  UpToDate: "UpToDate",
  Retagged: "Retagged",
  InRegistry: "InRegistry",
  InMirror: "InMirror",
  NotBuilt: "NotBuilt",
  SourceBuild: "SourceBuild",
  NotInRegistry: "NotInRegistry",
  NoRegistry: "NoRegistry",
  Pulled: "Pulled",
  Built: "Built",
  BuiltLocally: "BuiltLocally",
  BuildFailed: "BuildFailed",
  BaseImageUnavailable: "BaseImageUnavailable",
  ImageMissing: "ImageMissing",
  ImageMissingAfterBuild: "ImageMissingAfterBuild",
  ImageMissingAfterPull: "ImageMissingAfterPull",
  ParentFailed: "ParentFailed",
  ParentStalled: "ParentStalled",
  DependencyCycle: "DependencyCycle",
  MissingParent: "MissingParent",
  ContextOutsideRoot: "ContextOutsideRoot",
  ContextUnreadable: "ContextUnreadable",
  DockerfileUnreadable: "DockerfileUnreadable",
  PullFailed: "PullFailed",
  PushFailed: "PushFailed",
  RegistryUnauthorized: "RegistryUnauthorized",
  RegistryUnreachable: "RegistryUnreachable",
  BudgetWarning: "BudgetWarning",
  BudgetEnforced: "BudgetEnforced",
  VulnerabilitiesFound: "VulnerabilitiesFound",
  NoVulnerabilities: "NoVulnerabilities",
  ScanFailed: "ScanFailed",
} as const;

/** Service records: a rollout's verdict, health, holds (failed, pinned, budgets), admission and third-party images. */
export const ServiceReason = {
  Pending,
  RolledOut: "RolledOut",
  RolledBack: "RolledBack",
  RolloutFailed: "RolloutFailed",
  Pinned: "Pinned",
  PinFailed: "PinFailed",
  ComposeFailed: "ComposeFailed",
  Healthy: "Healthy",
  Starting: "Starting",
  Unhealthy: "Unhealthy",
  HealthTimeout: "HealthTimeout",
  Exited: "Exited",
  OOMKilled: "OOMKilled",
  Restarting: "Restarting",
  Removed: "Removed",
  Drifted: "Drifted",
  Restored: "Restored",
  RestoreFailed: "RestoreFailed",
  DependencyNotReady: "DependencyNotReady",
  PolicyDenied: "PolicyDenied",
  Retained: "Retained",
  Pruned: "Pruned",
  InsufficientVRAM: "InsufficientVRAM",
  NoGpu: "NoGpu",
  NoGpuRuntime: "NoGpuRuntime",
  VerifyFailed: "VerifyFailed",
  VramExceeded: "VramExceeded",
  BudgetEnforced: "BudgetEnforced",
  VulnerabilitiesFound: "VulnerabilitiesFound",
  ScanFailed: "ScanFailed",
  ImageMissing: "ImageMissing",
  ImageNotReady: "ImageNotReady",
  PinnedImageMissing: "PinnedImageMissing",
  PullFailed: "PullFailed",
  PullPending: "PullPending",
  RegistryUnreachable: "RegistryUnreachable",
  RegistryUnauthorized: "RegistryUnauthorized",
  NotInRegistry: "NotInRegistry",
  TagMoved: "TagMoved",
  ReferenceChanged: "ReferenceChanged",
  NotPresent: "NotPresent",
  Retry: "Retry",
} as const;

/** Stack records: whether every service is ready, a stack the host policy refuses, one left the desired state. */
export const StackReason = {
  Pending,
  ServicesReady: "ServicesReady",
  ServicesNotReady: "ServicesNotReady",
  PolicyDenied: "PolicyDenied",
  Retained: "Retained",
} as const;

/** The source (pass) record: git fetch and verification, the desired state's validity, and the host's readiness. */
export const SourceReason = {
  Pending,
  Applied: "Applied",
  ResourcesNotReady: "ResourcesNotReady",
  EmptyDesiredStateRefused: "EmptyDesiredStateRefused",
  Progressing: "Progressing",
  PassComplete: "PassComplete",
  Valid: "Valid",
  Fine: "Fine",
  InvalidDesiredState: "InvalidDesiredState",
  DesiredStateMissing: "DesiredStateMissing",
  MachineNotSelected: "MachineNotSelected",
  PolicyDenied: "PolicyDenied",
  Verified: "Verified",
  NotRequired: "NotRequired",
  VerificationFailed: "VerificationFailed",
  NotDescendant: "NotDescendant",
  FetchFailed: "FetchFailed",
  CheckoutFailed: "CheckoutFailed",
  BadSignature: "BadSignature",
  UnknownKey: "UnknownKey",
  Unsigned: "Unsigned",
} as const;

/** Prune records: the last run's result. */
export const PruneReason = {
  Pending,
  Pruned: "Pruned",
  PruneFailed: "PruneFailed",
} as const;

export type ImageReason = (typeof ImageReason)[keyof typeof ImageReason];
export type ServiceReason = (typeof ServiceReason)[keyof typeof ServiceReason];
export type StackReason = (typeof StackReason)[keyof typeof StackReason];
export type SourceReason = (typeof SourceReason)[keyof typeof SourceReason];
export type PruneReason = (typeof PruneReason)[keyof typeof PruneReason];

/** Every kind's reasons, for checks that take any record. */
export const REASONS_BY_KIND = {
  image: ImageReason,
  service: ServiceReason,
  stack: StackReason,
  source: SourceReason,
  prune: PruneReason,
} as const satisfies Record<StatusKind, Record<string, string>>;

/** Whether `reason` is one of the reasons records of `kind` carry. */
export function isReasonOf(kind: StatusKind, reason: string): boolean {
  return Object.values<string>(REASONS_BY_KIND[kind]).includes(reason);
}
