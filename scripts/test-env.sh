#!/usr/bin/env bash
# Prepares the offline test environment: Debian test tools and the local base images (berth-test/busybox:1, optionally debian:bookworm-slim and debian:trixie-slim).
#
# Usage: scripts/test-env.sh [--debian] [--trixie]
#   Installs (only when missing) docker-registry, busybox-static, debootstrap, prometheus (for
#   promtool), apache2-utils (htpasswd), openssl (authenticated TLS registries, engine-* tests' TLS engines) and
#   openssh-server + openssh-client (engine-ssh tests' sshd, ssh-agent and ssh), and builds
#   berth-test/busybox:1 when it is missing. With --debian it also creates debian:bookworm-slim
#   with debootstrap + docker import when that image is missing; with --trixie
#   debian:trixie-slim (the base of berth's own image, see Dockerfile).
#   Idempotent; starts no long-running process (tests start their own registry).
set -euo pipefail

BUSYBOX_IMAGE="berth-test/busybox:1"
DEBIAN_IMAGE="debian:bookworm-slim"
TRIXIE_IMAGE="debian:trixie-slim"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=(docker-registry busybox-static debootstrap prometheus apache2-utils openssl openssh-server openssh-client)

log() { printf 'test-env: %s\n' "$*" >&2; }
die() { printf 'test-env: error: %s\n' "$*" >&2; exit 1; }

want_debian=0
want_trixie=0
for arg in "$@"; do
  case "$arg" in
    --debian) want_debian=1 ;;
    --trixie) want_trixie=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (usage: scripts/test-env.sh [--debian] [--trixie])" ;;
  esac
done

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# --- 1. Debian packages -------------------------------------------------------------------
command -v dpkg-query >/dev/null 2>&1 || die "this is not a Debian machine (no dpkg-query)"
missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}) and installing them needs root"
  log "installing: ${missing[*]}"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  for pkg in "${missing[@]}"; do
    is_installed "$pkg" || die "package $pkg is still not installed after apt-get install"
  done
else
  log "packages present: ${PACKAGES[*]}"
fi
command -v docker-registry >/dev/null 2>&1 || die "docker-registry is installed but not on PATH"
command -v promtool >/dev/null 2>&1 || die "prometheus is installed but promtool is not on PATH"
command -v htpasswd >/dev/null 2>&1 || die "apache2-utils is installed but htpasswd is not on PATH"
[ -x /usr/sbin/sshd ] || die "openssh-server is installed but /usr/sbin/sshd is missing"
[ -x /bin/busybox ] || die "/bin/busybox is missing although busybox-static is installed"

# --- 2. Docker engine -----------------------------------------------------------------------
docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/engine.sh first)"

workdirs=()
cleanup() {
  local dir
  for dir in "${workdirs[@]+"${workdirs[@]}"}"; do
    [ -d "$dir" ] || continue
    # debootstrap may leave proc/sys mounted after a failure: never rm -rf through a mount.
    grep -o " $dir/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r mnt; do
      umount -l "$mnt" 2>/dev/null || true
    done || true
    if grep -q " $dir/" /proc/mounts 2>/dev/null; then
      log "warning: leaving $dir in place, something is still mounted below it"
    else
      rm -rf -- "$dir"
    fi
  done
}
trap cleanup EXIT

# --- 3. berth-test/busybox:1 -----------------------------------------------------------------
if docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1; then
  log "image present: $BUSYBOX_IMAGE"
else
  log "building $BUSYBOX_IMAGE from /bin/busybox (busybox-static)"
  ctx="$(mktemp -d "${TMPDIR:-/tmp}/berth-busybox.XXXXXX")"
  workdirs+=("$ctx")
  cp /bin/busybox "$ctx/busybox"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:10001:10001:app:/home/app:/bin/sh' >"$ctx/passwd"
  printf '%s\n' 'root:x:0:' 'app:x:10001:' >"$ctx/group"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox","--install","-s","/bin"]
COPY passwd group /etc/
RUN mkdir -p /tmp /root /home/app && chmod 1777 /tmp && chown 10001:10001 /home/app
LABEL io.berth.test=true
CMD ["/bin/sh"]
EOF
  docker build -q -t "$BUSYBOX_IMAGE" "$ctx" >/dev/null || die "docker build of $BUSYBOX_IMAGE failed"
  docker run --rm "$BUSYBOX_IMAGE" sh -c 'id app >/dev/null && wget --help >/dev/null 2>&1' \
    || die "$BUSYBOX_IMAGE was built but does not run sh/wget"
  log "built $BUSYBOX_IMAGE ($(docker image inspect -f '{{.Size}}' "$BUSYBOX_IMAGE") bytes)"
fi

# --- 4. debian:bookworm-slim / debian:trixie-slim (optional) ----------------------------------
# debootstrap --variant=minbase SUITE, imported as IMAGE (like the official slim images).
debootstrap_image() {
  local suite=$1 image=$2 root
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "image present: $image"
    return
  fi
  [ "$(id -u)" = 0 ] || die "creating $image with debootstrap needs root"
  root="$(mktemp -d "${TMPDIR:-/var/tmp}/berth-debootstrap.XXXXXX")"
  workdirs+=("$root")
  log "debootstrap --variant=minbase $suite into $root (about 30-60 s)"
  debootstrap --variant=minbase "$suite" "$root" "$DEBIAN_MIRROR" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; die "debootstrap $suite failed (full log: $root.log)"; }
  rm -f "$root.log"
  # Like the official slim image: no package cache, no downloaded lists.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/bootstrap.log
  log "importing $root as $image"
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$image" >/dev/null \
    || die "docker import of $image failed"
  docker run --rm --network none "$image" true || die "$image was imported but does not run"
  log "created $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
}
[ "$want_debian" = 0 ] || debootstrap_image bookworm "$DEBIAN_IMAGE"
[ "$want_trixie" = 0 ] || debootstrap_image trixie "$TRIXIE_IMAGE"

log "ready"
