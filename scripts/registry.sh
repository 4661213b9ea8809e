#!/usr/bin/env bash
# Starts or stops a throwaway local OCI registry (Debian docker-registry, distribution 2.8) on 127.0.0.1 for manual tests.
#
# Usage: scripts/registry.sh [start] [--port N] [--storage DIR]
#        scripts/registry.sh stop [--port N]
#   PORT (default 5000) may also come from the environment. Config, pid file and log live in
#   ${TMPDIR:-/tmp}/berth-registry-PORT/; storage is a fresh temp dir unless --storage is given
#   (a temp storage dir is removed again by `stop`). Idempotent: if http://127.0.0.1:PORT/v2/
#   already answers, start says so and exits 0.
set -euo pipefail

log() { printf 'registry: %s\n' "$*" >&2; }
die() { printf 'registry: error: %s\n' "$*" >&2; exit 1; }

cmd=start
port="${PORT:-5000}"
storage=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    start|stop) cmd="$1" ;;
    --port) [ "$#" -ge 2 ] || die "--port needs a value"; port="$2"; shift ;;
    --port=*) port="${1#--port=}" ;;
    --storage) [ "$#" -ge 2 ] || die "--storage needs a value"; storage="$2"; shift ;;
    --storage=*) storage="${1#--storage=}" ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (usage: scripts/registry.sh [start|stop] [--port N] [--storage DIR])" ;;
  esac
  shift
done
case "$port" in ''|*[!0-9]*) die "port must be a number, got '$port'" ;; esac

state="${TMPDIR:-/tmp}/berth-registry-$port"
pidfile="$state/registry.pid"
url="http://127.0.0.1:$port/v2/"

# Exit 0 when GET /v2/ answers 200; uses curl, else wget, else node (always present here).
answers() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O /dev/null -T 1 -t 1 "$url" 2>/dev/null
  else
    node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(1000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url"
  fi
}

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

if [ "$cmd" = stop ]; then
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not exit on SIGTERM within 5 s, sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
    log "stopped registry pid $pid on 127.0.0.1:$port"
  else
    log "no registry started by this script runs on port $port"
    answers && log "note: something else answers $url (not started by this script; left alone)"
  fi
  if [ -f "$state/temp-storage" ]; then
    tmp_storage="$(cat "$state/temp-storage")"
    case "$tmp_storage" in "${TMPDIR:-/tmp}"/berth-registry-storage.*) rm -rf -- "$tmp_storage" ;; esac
  fi
  rm -rf -- "$state"
  exit 0
fi

# --- start ---------------------------------------------------------------------------------
if answers; then
  log "a registry already answers $url; nothing to do"
  exit 0
fi
command -v docker-registry >/dev/null 2>&1 || die "docker-registry is not installed (run scripts/test-env.sh as root)"
if pid="$(running_pid)"; then
  die "registry pid $pid from an earlier start runs but does not answer $url (see $state/registry.log; try '$0 stop --port $port')"
fi

mkdir -p "$state"
rm -f "$state/temp-storage"
if [ -z "$storage" ]; then
  storage="$(mktemp -d "${TMPDIR:-/tmp}/berth-registry-storage.XXXXXX")"
  echo "$storage" >"$state/temp-storage"
else
  mkdir -p "$storage"
  storage="$(cd "$storage" && pwd)"
fi

cat >"$state/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: berth-local-test-registry
EOF

nohup docker-registry serve "$state/config.yml" >"$state/registry.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"

for _ in $(seq 1 100); do
  answers && break
  kill -0 "$pid" 2>/dev/null || { tail -n 20 "$state/registry.log" >&2; rm -f "$pidfile"; die "docker-registry exited during startup (log: $state/registry.log)"; }
  sleep 0.1
done
if ! answers; then
  tail -n 20 "$state/registry.log" >&2
  die "docker-registry pid $pid did not answer $url within 10 s (log: $state/registry.log)"
fi
log "registry pid $pid answers $url (storage $storage, pid file $pidfile, log $state/registry.log)"
log "push with: docker tag IMAGE 127.0.0.1:$port/NAME:TAG && docker push 127.0.0.1:$port/NAME:TAG"
