#!/usr/bin/env bash
# A repository credential never lands in a job, Redis, the jobs API or a log. Against the real Redis and
# Gitea of scripts/testenv and the real binaries (`helmgate serve` + a separate `helmgate worker`):
#  1. repos[].url with a credential in its userinfo is refused at start; the message does not repeat it;
#  2. a private Gitea repository owned by a user made for this test, whose fresh token (the canary) is
#     given only through repos[].token_env (and the forge's token_env): a PR -> Gitea's webhook -> a job ->
#     the worker fetches the private repository with the token and posts the preview comment;
#  3. every key in Redis (SCAN of the whole database, each value read by its type), every jobs API answer,
#     the serve and worker logs and the PR's comments: no canary, and no job spec names a clone URL.
# Needs `eval "$(scripts/testenv env)"`.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?}/helmgate
: "${HELMGATE_TEST_GITEA_URL:?run eval \"\$(scripts/testenv env)\" first}"
: "${HELMGATE_TEST_GITEA_TOKEN:?}" "${HELMGATE_TEST_REDIS_URL:?}" "${HELMGATE_HELM:?}"
GITEA=$HELMGATE_TEST_GITEA_URL
RUN=$$$RANDOM
U=seccreds$RUN
PW="pw-$RANDOM$RANDOM-Aa1!"
REPO=creds-$RUN
T=$(mktemp -d)
SERVE= WORKER=
export HELMGATE_CACHE_DIR=$T/cache
(umask 077 && echo "Authorization: token $HELMGATE_TEST_GITEA_TOKEN" >"$T/admin.hdr")

cleanup() {
  local rc=$?
  for p in $SERVE $WORKER; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $SERVE $WORKER; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  admin DELETE "/admin/users/$U?purge=true" >/dev/null 2>&1 || true
  if [ $rc -ne 0 ]; then
    echo "--- serve log (tail)" >&2; tail -n 30 "$T/serve.log" >&2 2>/dev/null || true
    echo "--- worker log (tail)" >&2; tail -n 30 "$T/worker.log" >&2 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
admin() {
  local method=$1 path=$2 body=${3:-}
  curl -sS -f --max-time 20 -X "$method" -H @"$T/admin.hdr" -H 'Content-Type: application/json' \
    ${body:+--data "$body"} "$GITEA/api/v1$path"
}
user_api() {
  local method=$1 path=$2 body=${3:-}
  curl -sS -f --max-time 20 -X "$method" -H @"$T/user.hdr" -H 'Content-Type: application/json' \
    ${body:+--data "$body"} "$GITEA/api/v1$path"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- 1. a credential in repos[].url stops startup, and the message does not repeat it
FAKE="tokCANARY$RUN"
cat >"$T/bad.yaml" <<YAML
api: {token_env: SEC_API_TOKEN}
forges: [{name: gitea, kind: gitea, api_url: "$GITEA", webhook_secret_env: SEC_HOOK}]
repos: [{name: a/b, forge: gitea, url: "https://bot:$FAKE@git.example.com/a/b.git"}]
YAML
set +e; out=$(SEC_API_TOKEN=x SEC_HOOK=y "$HG" serve --config "$T/bad.yaml" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] || fail "a credential in repos[].url: exit $rc, want 2: $out"
grep -q "bad.yaml:3:.*repos\[0\].url: must not contain credentials" <<<"$out" || fail "message: $out"
grep -q "token_env" <<<"$out" || fail "the message does not say what to do: $out"
! grep -q "$FAKE" <<<"$out" || fail "the refusal repeats the credential: $out"
echo "ok: repos[].url with a credential refused without repeating it"

# --- 2. a user of our own, whose fresh token is the canary; a private repository
admin POST /admin/users "{\"username\":\"$U\",\"email\":\"$U@example.invalid\",\"password\":\"$PW\",\"must_change_password\":false}" >/dev/null
CANARY=$(curl -sS -f --max-time 20 -u "$U:$PW" -H 'Content-Type: application/json' -X POST \
  --data '{"name":"helmgate-sec","scopes":["write:repository","write:issue","write:user"]}' \
  "$GITEA/api/v1/users/$U/tokens" | json 'd["sha1"]')
[ ${#CANARY} -ge 20 ] || fail "no token for $U"
(umask 077 && echo "Authorization: token $CANARY" >"$T/user.hdr")
user_api POST /user/repos "{\"name\":\"$REPO\",\"private\":true,\"default_branch\":\"main\"}" >/dev/null
CLONE_URL="$GITEA/$U/$REPO.git"
# Private indeed: without the token Gitea refuses to serve it.
if GIT_TERMINAL_PROMPT=0 git -c credential.helper= ls-remote "$CLONE_URL" >/dev/null 2>&1 </dev/null; then fail "$CLONE_URL is readable without credentials"; fi

mkdir -p "$T/repo/charts/demo/templates" "$T/repo/releases"
printf 'apiVersion: v2\nname: demo\nversion: 0.1.0\n' >"$T/repo/charts/demo/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  msg: {{ .Values.msg | quote }}\n' \
  >"$T/repo/charts/demo/templates/cm.yaml"
rel() {
  printf 'apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: demo\n  namespace: sec-%s\nspec:\n  releaseName: demo\n  chart:\n    git: %s\n    path: charts/demo\n  values:\n    msg: %s\n' \
    "$RUN" "$CLONE_URL" "$1" >"$T/repo/releases/demo.yaml"
}
rel first
git_() { git -C "$T/repo" -c user.email=s@example.com -c user.name=s -c commit.gpgsign=false "$@"; }
git init -q -b main "$T/repo"
git_ add -A && git_ commit -qm base
export SEC_GIT_PASSWORD=$CANARY
git_ config credential.helper "!f() { echo username=$U; echo password=\$SEC_GIT_PASSWORD; }; f"
git_ remote add origin "$CLONE_URL"
git_ push -q origin main 2>/dev/null

# --- serve and a separate worker; the canary only in the environment
RP=${HELMGATE_TEST_REDIS_URL}
HOOK="hook-$RANDOM$RANDOM"
export SEC_HOOK=$HOOK SEC_API_TOKEN="api-$RANDOM$RANDOM" SEC_REPO_TOKEN=$CANARY SEC_FORGE_TOKEN=$CANARY
cat >"$T/hg.yaml" <<YAML
server: {listen: "127.0.0.1:0", shutdown_grace: 10s}
redis: {url: "$RP"}
queue: {key_prefix: "seccreds$RUN", backoff_base: 1s, max_attempts: 2}
api: {token_env: SEC_API_TOKEN}
forges:
- {name: gitea, kind: gitea, api_url: "$GITEA", webhook_secret_env: SEC_HOOK, token_env: SEC_FORGE_TOKEN}
repos:
- name: $U/$REPO
  url: $CLONE_URL
  token_env: SEC_REPO_TOKEN
  forge: gitea
  clusters:
  - {name: dev, paths: [releases], kube_version: "1.35.0"}
YAML
"$HG" serve --config "$T/hg.yaml" >"$T/serve.out" 2>"$T/serve.log" & SERVE=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/serve.out")
[ -n "$HP" ] || fail "serve did not print its port: $(cat "$T/serve.log")"
"$HG" worker --config "$T/hg.yaml" >"$T/worker.out" 2>"$T/worker.log" & WORKER=$!
(umask 077 && echo "Authorization: Bearer $SEC_API_TOKEN" >"$T/hg.hdr")
hg_api() { curl -sS -f --max-time 20 -H @"$T/hg.hdr" "http://127.0.0.1:$HP/api/v1$1"; }

user_api POST "/repos/$U/$REPO/hooks" "{\"type\":\"gitea\",\"active\":true,\"branch_filter\":\"*\",
  \"events\":[\"push\",\"pull_request\",\"pull_request_sync\"],
  \"config\":{\"url\":\"http://127.0.0.1:$HP/webhooks/gitea\",\"content_type\":\"json\",\"secret\":\"$HOOK\"}}" >/dev/null

git_ checkout -qb change
rel second
git_ commit -qam "demo: second"
HEAD=$(git_ rev-parse HEAD)
git_ push -q origin change 2>/dev/null
PR=$(user_api POST "/repos/$U/$REPO/pulls" '{"head":"change","base":"main","title":"sec: creds"}' | json 'd["number"]')

# The preview comment appears only if the worker fetched the private repository with the token.
deadline=$(( $(date +%s) + 120 ))
found=
while [ "$(date +%s)" -lt "$deadline" ]; do
  if user_api GET "/repos/$U/$REPO/issues/$PR/comments" | grep -q "${HEAD:0:12}"; then found=1; break; fi
  sleep 0.5
done
[ -n "$found" ] || fail "no preview comment for ${HEAD:0:12}: jobs: $(hg_api '/jobs?limit=5' | cut -c1-1500)"
user_api GET "/repos/$U/$REPO/issues/$PR/comments" >"$T/comments.json"
grep -q 'second' "$T/comments.json" || fail "the preview does not show the change: $(head -c 1500 "$T/comments.json")"
echo "ok: the worker fetched the private repository (token from repos[].token_env) and posted the preview"

# --- 3. the canary nowhere
hg_api '/jobs?limit=1000' >"$T/jobs.json"
python3 - "$T/jobs.json" "$U/$REPO" >"$T/ids" <<'PY'
import json, sys
jobs = [j for j in json.load(open(sys.argv[1]))["jobs"] if j["repo"] == sys.argv[2]]
for j in jobs:
    if "clone_url" in (j.get("spec") or {}):
        sys.exit("job %s spec names a clone URL: %s" % (j["id"], j["spec"]["clone_url"]))
    print(j["id"])
PY
[ -s "$T/ids" ] || fail "no job for $U/$REPO in the jobs API"
: >"$T/api.txt"
cat "$T/jobs.json" >>"$T/api.txt"
while read -r id; do hg_api "/jobs/$id" >>"$T/api.txt"; echo >>"$T/api.txt"; done <"$T/ids"
! grep -qF "$CANARY" "$T/api.txt" || fail "the canary is in a jobs API answer"
grep -q '"state":"succeeded"' "$T/api.txt" || fail "no job succeeded: $(head -c 1500 "$T/api.txt")"
echo "ok: jobs API ($(wc -l <"$T/ids") jobs, lists and details) without the canary, no clone_url in a spec"

# Every key of the database, each value read by its type (DUMP would hide compressed strings).
keys=0 hits=""
while IFS= read -r k; do
  [ -n "$k" ] || continue
  keys=$((keys + 1))
  case $(redis-cli -u "$RP" type "$k") in
    string) v=$(redis-cli -u "$RP" get "$k") ;;
    hash) v=$(redis-cli -u "$RP" hgetall "$k") ;;
    list) v=$(redis-cli -u "$RP" lrange "$k" 0 -1) ;;
    set) v=$(redis-cli -u "$RP" smembers "$k") ;;
    zset) v=$(redis-cli -u "$RP" zrange "$k" 0 -1 withscores) ;;
    stream) v=$(redis-cli -u "$RP" xrange "$k" - +) ;;
    *) v="" ;;
  esac
  if grep -qF "$CANARY" <<<"$v$k"; then hits="$hits $k"; fi
done < <(redis-cli -u "$RP" --scan)
[ -z "$hits" ] || fail "the canary is in Redis keys:$hits"
mine=$(redis-cli -u "$RP" --scan --pattern "*seccreds$RUN*" | wc -l)
[ "$mine" -ge 1 ] && [ "$keys" -ge "$mine" ] || fail "no Redis key of this run was scanned ($keys keys, $mine of this run)"
echo "ok: $keys Redis keys scanned ($mine of this run), no canary"

kill -TERM "$WORKER"; wait "$WORKER" || true; WORKER=
kill -TERM "$SERVE"; wait "$SERVE" || true; SERVE=
for f in serve.log serve.out worker.log worker.out comments.json; do
  ! grep -qF "$CANARY" "$T/$f" || fail "the canary is in $f"
done
grep -q "job" "$T/worker.log" || fail "the worker log is empty (nothing to check)"
echo "ok: logs and comments without the canary"
echo "creds e2e: all checks passed"
