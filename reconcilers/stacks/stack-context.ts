// Everything a stack reconcile needs, injected: engine, compose, store, clock, logger, events, inputs.
import type { DesiredState, ServiceSpec } from "../../desired-state/desired-state.ts";
import type { Problem } from "../../desired-state/problem.ts";
import type { GpuReader } from "../../metrics/gpu/nvidia-smi-reader.ts";
import type { Clock } from "../../platform/clock.ts";
import type { ComposeCli } from "../../platform/compose-cli.ts";
import type { DockerEngine } from "../../platform/docker-engine.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Observed } from "../../platform/observed.ts";
import type { Profile } from "../../profiles/profile-schema.ts";
import type { ProgressSink } from "../../status/progress-events.ts";
import type { ReconcileEvents } from "../../status/reconcile-events.ts";
import type { SharedHostLock } from "../../status/shared-host-lock.ts";
import type { StatusStore } from "../../status/status-store.ts";
import type { ImageHold } from "../images/image-hold.ts";
import type { ScanGate } from "../images/scan-gate.ts";
import type { ContainerOps } from "./container-ops.ts";
import type { ImageResolver } from "./third-party-images.ts";

/** `retryAfterMs`: when a refusal may change by itself (VRAM frees up), the service is looked at again after that long. */
export type Admission = { ok: true } | { ok: false; reason: string; message: string; retryAfterMs?: number };

export type StackContext = {
  engine: DockerEngine;
  compose: ComposeCli;
  store: StatusStore;
  /** The state dir's host lock: every stack reconcile holds it shared, so no prune runs beside a swap. */
  lock: SharedHostLock;
  clock: Clock;
  logger: Logger;
  events: ReconcileEvents;
  ops: ContainerOps;
  machine: string;
  profile: Profile;
  state: DesiredState;
  /** Berth image name (or image reference) → exact local tag, from the images reconciler. */
  imageTags: Readonly<Record<string, string>>;
  /** Stacks the host policy refuses (name → problems): left exactly as they run, Stalled/PolicyDenied. */
  denied?: ReadonlyMap<string, Problem[]>;
  /** Berth image name → why rollouts to it wait (`budgets.enforce`, vulnerability gate), from the images reconciler. */
  imageHolds?: Readonly<Record<string, ImageHold>>;
  /** GPU/VRAM admission before a new container starts (metrics helper). */
  admit?: (service: ServiceSpec) => Admission | Promise<Admission>;
  /** nvidia-smi, for the VRAM guard of GPU services' monitor windows (none: no guard). */
  gpu?: GpuReader;
  /**
   * The vulnerability gate for images berth does not build (the images reconciler's, same cache and verdict);
   * absent: one with the scanner on this process's PATH, per `reconcileStacks` call.
   */
  scanGate?: ScanGate;
  /** The pass's registry look-ups and pulls of images berth does not build; one per reconcile when absent. */
  imageResolver?: ImageResolver;
  /** The pass's one batched observation; taken here when absent. */
  observed?: Observed;
  /** Health polling interval (default 500 ms) and "healthy" for services without a healthcheck. */
  pollMs?: number;
  noHealthcheckRunSeconds?: number;
  /** Live progress for `berth apply`. */
  progress?: ProgressSink;
};
