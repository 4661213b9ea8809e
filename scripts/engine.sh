#!/usr/bin/env bash
# Ensures a working Docker Engine (BuildKit, compose v2, buildx) answers on this machine.
# Idempotent: uses a running engine when it has compose v2 and buildx; otherwise installs
# Docker Engine 26 from Debian trixie (field notes §1) and starts dockerd.
set -euo pipefail

log() { printf 'engine: %s\n' "$*" >&2; }
die() { printf 'engine: error: %s\n' "$*" >&2; exit 1; }

has_engine() {
  docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1
}

if has_engine; then
  log "engine answers with compose v2 and buildx: $(docker version --format '{{.Server.Version}}')"
  exit 0
fi

need_install=0
command -v dockerd >/dev/null 2>&1 || need_install=1
[ -x /usr/libexec/docker/cli-plugins/docker-compose ] || need_install=1
[ -x /usr/libexec/docker/cli-plugins/docker-buildx ] || need_install=1

if [ "$need_install" = 1 ]; then
  [ "$(id -u)" = 0 ] || die "no engine answers and installing one needs root"
  command -v apt-get >/dev/null 2>&1 || die "no engine answers and this is not a Debian machine (no apt-get)"
  log "installing Docker Engine 26, compose v2 and buildx from Debian trixie"
  echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io/trixie docker-cli/trixie docker-compose/trixie docker-buildx/trixie \
    containerd runc tini iptables >/dev/null || die "apt-get install of the engine failed"
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  # The engine's default image store (overlay2): no containerd snapshotter (field notes §1).
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
fi

has_engine || die "dockerd did not answer within 30 s (see /var/log/dockerd.log)"
log "engine ready: $(docker version --format '{{.Server.Version}}'), $(docker compose version --short), buildx $(docker buildx version | awk '{print $2}')"
