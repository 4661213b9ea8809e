#!/usr/bin/env bash
# Builds the example fleet's third-party image (examples/third-party/example-cache, FROM the local
# debian:bookworm-slim) as 127.0.0.1:5000/vendor/example-cache:1. With --push it goes to the
# example's registry instead, and the local tag is dropped so that berth pulls it.
# Usage: scripts/example-cache.sh [--push]
set -euo pipefail
cd "$(dirname "$0")/.."
ref=127.0.0.1:5000/vendor/example-cache:1
docker build --quiet --tag "$ref" examples/third-party/example-cache >/dev/null
if [ "${1:-}" = "--push" ]; then
  docker push --quiet "$ref" >/dev/null
  docker rmi "$ref" >/dev/null
  echo "example-cache: pushed $ref" >&2
else
  echo "example-cache: built $ref" >&2
fi
