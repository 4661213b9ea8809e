#!/usr/bin/env bash
# README command one: on a fresh machine, installs what berth needs (engine, base image,
# local registry, npm packages) and runs the agent on the embedded example fleet.
# Usage: scripts/run-example.sh [MACHINE] [extra agent flags…]   (MACHINE: pc2 (default) or mainpc)
set -euo pipefail
cd "$(dirname "$0")/.."
machine="${1:-pc2}"
shift || true

bash scripts/engine.sh
bash scripts/test-env.sh --debian
# The example's registry (127.0.0.1:5000) stands in for GHCR; keep its storage across runs.
PORT=5000 bash scripts/registry.sh --storage "${BERTH_REGISTRY_STORAGE:-/var/lib/berth-example-registry}"
# The fleet's one third-party image, pushed to that registry: the agent's first pass pulls it.
bash scripts/example-cache.sh --push
[ -d node_modules ] || npm ci --no-audit --no-fund

exec bin/berth.cjs agent \
  --desired-state examples/fleet \
  --machine "$machine" \
  --state-dir "${BERTH_STATE_DIR:-.berth-state/$machine}" \
  --listen "${BERTH_LISTEN:-127.0.0.1:9464}" \
  "$@"
