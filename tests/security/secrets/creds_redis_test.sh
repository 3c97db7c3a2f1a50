#!/usr/bin/env bash
# Credentials never stored or returned, with a real Redis and the real binaries (`helmgate serve` and a
# separate `helmgate worker`), no forge needed:
#  - a configured repository whose token comes from repos[].token_env (canary 1): the worker fetches with
#    it (from a closed local port, so the fetch fails), and the job is recorded dead with its reason;
#  - signed deliveries whose repository.clone_url carries userinfo (canary 2), for the configured
#    repository and for one that is not configured (no job);
# then every Redis key (SCAN of the whole database, values read by type), the jobs API (list and each
# job), and the serve and worker logs hold neither canary, and no job for the configured repository names
# a clone URL.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?}/helmgate
SHARED=${HELMGATE_SHARED_DIR:-${HELMGATE_SOURCE_DIR:?}/../shared}
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in serve.log worker.log; do echo "--- $f" >&2; tail -n 20 "$T/$f" >&2 2>/dev/null || true; done; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
command -v redis-server >/dev/null || fail "redis-server is not installed"

C1="repoTokCANARY$RANDOM$RANDOM"
C2="hookUrlCANARY$RANDOM$RANDOM"
RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --dir "$T" --appendonly yes --save '' --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
CLOSED=$(port)  # nothing listens there
cat >"$T/hg.yaml" <<YAML
server: {listen: "127.0.0.1:0", shutdown_grace: 10s}
redis: {url: "redis://127.0.0.1:$RP/0"}
queue: {backoff_base: 100ms, max_attempts: 1}
api: {token_env: SEC_API_TOKEN}
forges: [{name: github, kind: github, api_url: "http://127.0.0.1:$CLOSED", webhook_secret_env: SEC_HOOK, token_env: SEC_FORGE_TOKEN}]
repos:
- name: Codertocat/Hello-World
  url: https://127.0.0.1:$CLOSED/Codertocat/Hello-World.git
  token_env: SEC_REPO_TOKEN
  forge: github
YAML
export SEC_HOOK="hook-$RANDOM$RANDOM" SEC_API_TOKEN="api-$RANDOM$RANDOM" SEC_REPO_TOKEN=$C1 SEC_FORGE_TOKEN="forge-$RANDOM"
"$HG" serve --config "$T/hg.yaml" >"$T/serve.out" 2>"$T/serve.log" & SERVE=$!; PIDS+=($SERVE)
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/serve.out")
[ -n "$HP" ] || fail "serve did not print its port"

deliver() {  # deliver <repo full name> <delivery id>: the corpus PR payload, clone URLs with canary 2
  python3 - "$SHARED/corpora/github-webhooks/octokit/pull_request/opened.payload.json" "$1" "$C2" >"$T/body.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
name, canary = sys.argv[2], sys.argv[3]
for r in (d["repository"], d["pull_request"]["head"]["repo"], d["pull_request"]["base"]["repo"]):
    r["full_name"] = name
    r["clone_url"] = "https://bot:%s@github.com/%s.git" % (canary, name)
print(json.dumps(d))
PY
  local sig="sha256=$(openssl dgst -sha256 -hmac "$SEC_HOOK" -hex <"$T/body.json" | sed 's/^.* //')"
  curl -sS -w ' %{http_code}' -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' \
    -H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: $sig" --data-binary @"$T/body.json" \
    "http://127.0.0.1:$HP/webhooks/github"
}
resp=$(deliver Codertocat/Hello-World sec-1)
[ "${resp##* }" = 202 ] || fail "configured delivery answered $resp"
ID1=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].rsplit(" ",1)[0])["jobs"][0])' "$resp")

# The worker runs the job: it fetches with the token from the environment (refused port) and fails,
# naming the URL without its userinfo.
"$HG" worker --config "$T/hg.yaml" >"$T/worker.out" 2>"$T/worker.log" & WORKER=$!; PIDS+=($WORKER)
(umask 077 && echo "Authorization: Bearer $SEC_API_TOKEN" >"$T/hg.hdr")
hg_api() { curl -sS -f --max-time 20 -H @"$T/hg.hdr" "http://127.0.0.1:$HP/api/v1$1"; }
# Up to 90 s: a preview first asks the forge for the PR's current head, and this forge's port is closed too,
# so that read gives up only after the transport's retries (about 31-39 s) before the fetch fails.
for _ in $(seq 900); do hg_api "/jobs/$ID1" | grep -q '"state":"\(dead\|succeeded\)"' && break; sleep 0.1; done
hg_api "/jobs/$ID1" >"$T/job1.json"
grep -q '"state":"dead"' "$T/job1.json" || fail "job $ID1 did not end dead: $(cat "$T/job1.json")"
grep -q "fetching https://\*\*\*@127.0.0.1:$CLOSED/" "$T/job1.json" || fail "job $ID1 did not fetch with the credential: $(cat "$T/job1.json")"
kill -TERM "$WORKER"; wait "$WORKER" || true

# A repository that is not configured: no job, and its URL is stored nowhere either (checked below).
resp=$(deliver Other/Repo sec-2)
[ "${resp##* }" = 200 ] || fail "unconfigured delivery answered $resp"

hg_api '/jobs?limit=1000' >"$T/api.txt"
python3 - "$T/api.txt" <<'PY' || fail "a job for the configured repository names a clone URL"
import json, sys
for j in json.load(open(sys.argv[1]))["jobs"]:
    if j["repo"] == "Codertocat/Hello-World" and "clone_url" in (j.get("spec") or {}):
        sys.exit(1)
PY
for id in $(python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(open(sys.argv[1]))["jobs"]))' "$T/api.txt"); do
  hg_api "/jobs/$id" >>"$T/api.txt"
done
for c in "$C1" "$C2"; do ! grep -qF "$c" "$T/api.txt" || fail "canary $c in a jobs API answer"; done
echo "ok: jobs API without either canary; no clone URL for the configured repository"

keys=0 hits=""
while IFS= read -r k; do
  [ -n "$k" ] || continue
  keys=$((keys + 1))
  case $(redis-cli -p "$RP" type "$k") in
    string) v=$(redis-cli -p "$RP" get "$k") ;;
    hash) v=$(redis-cli -p "$RP" hgetall "$k") ;;
    list) v=$(redis-cli -p "$RP" lrange "$k" 0 -1) ;;
    set) v=$(redis-cli -p "$RP" smembers "$k") ;;
    zset) v=$(redis-cli -p "$RP" zrange "$k" 0 -1 withscores) ;;
    stream) v=$(redis-cli -p "$RP" xrange "$k" - +) ;;
    *) v="" ;;
  esac
  for c in "$C1" "$C2"; do grep -qF "$c" <<<"$v$k" && hits="$hits $k"; done
done < <(redis-cli -p "$RP" --scan)
[ "$keys" -ge 3 ] || fail "only $keys Redis keys: nothing was stored?"
[ -z "$hits" ] || fail "a canary is in Redis keys:$hits"
# The AOF holds every write ever made, also overwritten ones.
redis-cli -p "$RP" bgrewriteaof >/dev/null 2>&1 || true
! grep -rqaF -e "$C1" -e "$C2" "$T"/appendonly* 2>/dev/null || fail "a canary is in Redis' append-only file"
echo "ok: $keys Redis keys and the AOF without either canary"

kill -TERM "$SERVE"; wait "$SERVE" || true
for f in serve.log serve.out worker.log worker.out; do
  for c in "$C1" "$C2"; do ! grep -qF "$c" "$T/$f" || fail "canary in $f"; done
done
grep -q "$ID1" "$T/worker.log" || fail "the worker log does not name the job (nothing to check)"
echo "ok: serve and worker logs without either canary"
echo "creds redis: all checks passed"
