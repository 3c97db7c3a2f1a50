#!/usr/bin/env bash
# The real `helmgate serve` (with its own redis-server) under three attacks on its resources:
#   1. a correctly signed webhook whose JSON nests 200,000 levels: 400 with the reason, serve lives on;
#   2. more connections than server.max_connections: 503 with Retry-After past the cap, normal service
#      once they close;
#   3. descriptor exhaustion (RLIMIT_NOFILE 64, 300 connections held open): serve stays up, its log
#      stays small (the accept loop backs off instead of spinning, one line per episode), and it answers
#      again once the connections close.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?run through ctest (needs HELMGATE_BINARY_DIR)}/helmgate
[ -x "$HG" ] || { echo "FAIL: $HG not built"; exit 1; }
command -v redis-server >/dev/null || { echo "FAIL: redis-server is needed"; exit 1; }
command -v prlimit >/dev/null || { echo "FAIL: prlimit (util-linux) is needed"; exit 1; }
T=$(mktemp -d /tmp/hg-serve-bounds.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --dir "$T" --save '' --appendonly no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done

export BOUNDS_SECRET="s3cr3t-$RANDOM" BOUNDS_TOKEN="tok-$RANDOM"
# $1: name, $2: max_connections, rest: a command prefix (prlimit ...). Sets SERVE (pid) and HP (port).
start_serve() {
  local name=$1 maxc=$2
  shift 2
  cat >"$T/$name.yaml" <<YAML
server: {listen: "127.0.0.1:0", threads: 2, max_connections: $maxc, header_timeout: 60s, shutdown_grace: 2s}
redis: {url: "redis://127.0.0.1:$RP/0"}
api: {token_env: BOUNDS_TOKEN}
forges: [{name: github, kind: github, webhook_secret_env: BOUNDS_SECRET}]
YAML
  "$@" "$HG" serve --config "$T/$name.yaml" >"$T/$name.out" 2>"$T/$name.log" &
  SERVE=$!
  PIDS+=($SERVE)
  for _ in $(seq 100); do grep -q '^listening on' "$T/$name.out" 2>/dev/null && break; sleep 0.05; done
  HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/$name.out")
  [ -n "$HP" ] || { echo "FAIL: serve $name did not start: $(cat "$T/$name.log")"; exit 1; }
}
healthz() { curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/healthz" 2>/dev/null || true; }

# Holds N TCP connections to the port open (without sending anything) until the file $3 disappears.
hold() {
  python3 - "$1" "$2" "$3" <<'PY' &
import os, socket, sys, time
port, n, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
open(flag + ".ready", "w").close()
while os.path.exists(flag):
    time.sleep(0.05)
for s in socks:
    s.close()
PY
  HOLDER=$!
  PIDS+=($HOLDER)
  for _ in $(seq 100); do [ -e "$3.ready" ] && break; sleep 0.05; done
}

# --- 1. deep JSON in a signed webhook ---------------------------------------------------------------
start_serve deep 1024
python3 -c 'import sys; sys.stdout.write("[" * 200000 + "]" * 200000)' >"$T/deep.json"
SIG="sha256=$(openssl dgst -sha256 -hmac "$BOUNDS_SECRET" -hex <"$T/deep.json" | sed 's/^.* //')"
resp=$(curl -sS -m 20 -w ' %{http_code}' -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' \
  -H 'X-GitHub-Delivery: deep-1' -H "X-Hub-Signature-256: $SIG" --data-binary @"$T/deep.json" \
  "http://127.0.0.1:$HP/webhooks/github" || true)
[ "${resp##* }" = 400 ] && pass "deep JSON answered 400" || fail "deep JSON answered: ${resp:0:300}"
grep -q 'payload nests deeper than 64 levels' <<<"$resp" && pass "the 400 says why" || fail "no reason in: ${resp:0:300}"
kill -0 "$SERVE" 2>/dev/null && pass "serve is alive after the deep JSON" || fail "serve died: $(tail -5 "$T/deep.log")"
[ "$(healthz)" = 200 ] && pass "/healthz answers after the deep JSON" || fail "/healthz does not answer"

# --- 2. connection cap ------------------------------------------------------------------------------
kill -TERM "$SERVE"; wait "$SERVE" || true
start_serve cap 8
touch "$T/cap.flag"
hold "$HP" 8 "$T/cap.flag"
sleep 0.5
curl -sS -m 5 -D "$T/cap.headers" -o "$T/cap.body" "http://127.0.0.1:$HP/healthz" >/dev/null 2>"$T/cap.curl" || true
head -1 "$T/cap.headers" | grep -q ' 503' && pass "503 past max_connections" || fail "past the cap: $(cat "$T/cap.headers" "$T/cap.curl")"
grep -qi '^Retry-After: [0-9]' "$T/cap.headers" && pass "with Retry-After" || fail "no Retry-After: $(cat "$T/cap.headers")"
grep -q 'too many open connections' "$T/cap.body" && pass "503 body says why" || fail "503 body: $(cat "$T/cap.body")"
rm -f "$T/cap.flag"
wait "$HOLDER" || true
ok=""
for _ in $(seq 50); do [ "$(healthz)" = 200 ] && { ok=1; break; }; sleep 0.1; done
[ -n "$ok" ] && pass "answers again once the connections close" || fail "no answer after the connections closed"
metrics=$(curl -sS -m 5 "http://127.0.0.1:$HP/metrics" || true)
grep -Eq '^helmgate_http_connections_rejected_total [1-9]' <<<"$metrics" && pass "rejections are counted in /metrics" ||
  fail "no rejection count in /metrics: $(grep connections <<<"$metrics")"

# --- 3. descriptor exhaustion -----------------------------------------------------------------------
kill -TERM "$SERVE"; wait "$SERVE" || true
start_serve nofile 100000 prlimit --nofile=64:64
[ "$(healthz)" = 200 ] || fail "serve under RLIMIT_NOFILE 64 does not answer at first"
touch "$T/nofile.flag"
hold "$HP" 300 "$T/nofile.flag"
sleep 5
kill -0 "$SERVE" 2>/dev/null && pass "serve is alive with its descriptors exhausted" || fail "serve died: $(tail -5 "$T/nofile.log")"
size=$(stat -c %s "$T/nofile.log")
[ "$size" -lt 102400 ] && pass "log is $size bytes after 5 s of exhaustion" || fail "log grew to $size bytes: $(tail -3 "$T/nofile.log")"
n=$(grep -c 'accept failed' "$T/nofile.log" || true)
[ "$n" -eq 1 ] && pass "one log line for the episode" || fail "$n 'accept failed' lines: $(head -c 2000 "$T/nofile.log")"
rm -f "$T/nofile.flag"
wait "$HOLDER" || true
ok=""
for _ in $(seq 100); do [ "$(healthz)" = 200 ] && { ok=1; break; }; sleep 0.1; done
[ -n "$ok" ] && pass "answers again once the connections close" || fail "no answer after the connections closed: $(tail -3 "$T/nofile.log")"
grep -q 'accepting connections again' "$T/nofile.log" && pass "recovery is logged" || fail "no recovery line: $(tail -3 "$T/nofile.log")"
metrics=$(curl -sS -m 5 "http://127.0.0.1:$HP/metrics" || true)
grep -Eq '^helmgate_http_accept_errors_total\{error="Too many open files"\} [1-9]' <<<"$metrics" &&
  pass "accept errors are counted in /metrics" || fail "no accept error count: $(grep accept <<<"$metrics")"
kill -TERM "$SERVE"; wait "$SERVE" && pass "serve stops cleanly" || fail "serve exited non-zero on SIGTERM"

if [ "$failures" -gt 0 ]; then
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "serve bounds: all checks passed"
