#!/usr/bin/env bash
# CI step: README command 1 as a user runs it (`bash scripts/run-example.sh pc2`), until the
# agent's first pass is done (GET /readyz answers 200) or BERTH_EXAMPLE_TIMEOUT seconds pass,
# then Ctrl-C (SIGINT). The example's containers, images and registry stay, as they do for a
# user, so the test suite that runs next proves it does not depend on an engine the example
# never touched. Exit 0 when the pass finished and the agent stopped cleanly on SIGINT.
set -uo pipefail
cd "$(dirname "$0")/.."

timeout_s="${BERTH_EXAMPLE_TIMEOUT:-900}"
listen="${BERTH_LISTEN:-127.0.0.1:9464}"
log="$(mktemp "${TMPDIR:-/tmp}/berth-readme-1-XXXXXX.log")"

BERTH_LISTEN="$listen" bash scripts/run-example.sh pc2 >"$log" 2>&1 &
pid=$!
started=$SECONDS
outcome="timeout"
while [ $((SECONDS - started)) -lt "$timeout_s" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then outcome="exited"; break; fi
  if node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://$listen/readyz"; then outcome="ready"; break; fi
  sleep 2
done
elapsed=$((SECONDS - started))

if [ "$outcome" = ready ]; then
  ready="$(node -e 'fetch(process.argv[1]).then((r) => r.json()).then((s) => {
      const c = (s.source?.conditions ?? []).find((x) => x.type === "Ready");
      console.log(c ? `Ready=${c.status} (${c.reason})` : "no Ready condition");
    }, (e) => console.log(`status unreadable: ${e.message}`))' "http://$listen/api/v1/status")"
  echo "readme-command-1: first pass done after ${elapsed}s: host ${ready}"
fi

code=0
if kill -0 "$pid" 2>/dev/null; then
  kill -INT "$pid"
  wait "$pid"
  code=$?
  echo "readme-command-1: agent stopped on SIGINT with exit code $code"
else
  wait "$pid"
  code=$?
fi

if [ "$outcome" != ready ] || [ "$code" -ne 0 ]; then
  echo "readme-command-1: FAILED ($outcome after ${elapsed}s, exit code $code); last lines of $log:"
  tail -n 40 "$log"
  exit 1
fi
rm -f "$log"
