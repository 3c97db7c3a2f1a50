#!/usr/bin/env bash
# The real binaries: `helmgate serve` refuses bad configuration clearly, serves a signed delivery,
# `helmgate worker` runs the job, `helmgate jobs`/`replay` talk to the API, SIGTERM stops cleanly.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?}/helmgate
SHARED=${HELMGATE_SHARED_DIR:-${HELMGATE_SOURCE_DIR:?}/../shared}
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. configuration errors stop startup with file:line, key path, reason; exit code 2
printf 'server:\n  listen: 127.0.0.1:0\n  treads: 4\n' >"$T/bad.yaml"
set +e; out=$("$HG" serve --config "$T/bad.yaml" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] || fail "bad config: exit $rc, want 2"
grep -q "$T/bad.yaml:3:3: server.treads: unknown key" <<<"$out" || fail "bad config message: $out"

RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --dir "$T" --appendonly yes --save '' --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
cat >"$T/hg.yaml" <<YAML
server: {listen: "127.0.0.1:0", shutdown_grace: 10s}
redis: {url: "redis://127.0.0.1:$RP/0"}
api: {token_env: CLI_TEST_TOKEN}
forges: [{name: github, kind: github, webhook_secret_env: CLI_TEST_SECRET}]
YAML
unset CLI_TEST_SECRET
set +e; out=$(CLI_TEST_TOKEN=t "$HG" serve --config "$T/hg.yaml" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] || fail "missing secret: exit $rc"
grep -q "forges\[0\].webhook_secret_env: environment variable CLI_TEST_SECRET is not set" <<<"$out" || fail "missing secret message: $out"

# 2. serve, deliver, list
export CLI_TEST_SECRET="s3cr3t-$RANDOM" CLI_TEST_TOKEN="tok-$RANDOM"
"$HG" serve --config "$T/hg.yaml" >"$T/serve.out" 2>"$T/serve.log" & SERVE=$!; PIDS+=($SERVE)
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/serve.out")
[ -n "$HP" ] || fail "serve did not print its port: $(cat "$T/serve.log")"
BODY=$SHARED/corpora/github-webhooks/octokit/pull_request/opened.payload.json
SIG="sha256=$(openssl dgst -sha256 -hmac "$CLI_TEST_SECRET" -hex <"$BODY" | sed 's/^.* //')"
resp=$(curl -sS -w ' %{http_code}' -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' \
  -H 'X-GitHub-Delivery: cli-1' -H "X-Hub-Signature-256: $SIG" --data-binary @"$BODY" "http://127.0.0.1:$HP/webhooks/github")
[ "${resp##* }" = 202 ] || fail "delivery answered $resp"
ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].rsplit(" ",1)[0])["jobs"][0])' "$resp")

export HELMGATE_SERVER="http://127.0.0.1:$HP"
"$HG" jobs --token-env CLI_TEST_TOKEN >"$T/jobs.txt"
grep -Eq "^$ID +queued +preview +Codertocat/Hello-World" "$T/jobs.txt" || fail "jobs listing: $(cat "$T/jobs.txt")"
set +e; out=$(CLI_TEST_TOKEN= "$HG" jobs --token-env CLI_TEST_TOKEN 2>&1); rc=$?; set -e
[ $rc -eq 1 ] && grep -q "CLI_TEST_TOKEN is not set" <<<"$out" || fail "jobs without token: $rc $out"
set +e; out=$(WRONG=nope "$HG" jobs --token-env WRONG 2>&1); rc=$?; set -e
[ $rc -eq 1 ] && grep -q "server answered 401" <<<"$out" || fail "jobs with a wrong token: $rc $out"

# 3. a worker process runs it: the forge has no token to post with -> dead with the reason, never dropped
"$HG" worker --config "$T/hg.yaml" 2>"$T/worker.log" & WORKER=$!; PIDS+=($WORKER)
for _ in $(seq 100); do
  "$HG" jobs "$ID" --token-env CLI_TEST_TOKEN | grep -q '^state *dead' && break; sleep 0.1
done
"$HG" jobs "$ID" --token-env CLI_TEST_TOKEN >"$T/job.txt"
grep -q '^state *dead' "$T/job.txt" || fail "job did not end dead: $(cat "$T/job.txt")"
grep -q '^error *preview: forges: .*needs a token' "$T/job.txt" || fail "job error: $(cat "$T/job.txt")"
kill -TERM "$WORKER"; wait "$WORKER" || fail "worker exited non-zero on SIGTERM"
grep -q "worker stopped" "$T/worker.log" || fail "worker log: $(cat "$T/worker.log")"

# 4. replay through the CLI
out=$("$HG" replay "$ID" --token-env CLI_TEST_TOKEN)
grep -Eq "^job [0-9]+ replays $ID$" <<<"$out" || fail "replay: $out"

# 5. SIGTERM: clean exit, nothing secret in the logs
kill -TERM "$SERVE"; wait "$SERVE" || fail "serve exited non-zero on SIGTERM"
grep -q "stopped" "$T/serve.log" || fail "serve log has no stop line"
! grep -q "$CLI_TEST_SECRET\|$CLI_TEST_TOKEN" "$T/serve.log" "$T/worker.log" || fail "a secret appears in a log"
echo "cli: all checks passed"
