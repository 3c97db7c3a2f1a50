#!/usr/bin/env bash
# The whole loop against the real servers of scripts/testenv: the real `helmgate serve --workers 2`,
# a fresh Gitea repository with a webhook to it, a PR (preview comment + statuses, updated in place on
# the next push, split into parts and back, a superseded job posting nothing), a command by a user without write permission
# (refused), the merge (apply on dev/staging/prod, `helm list`, a comment on the merged PR), and a
# Secret canary that appears in no comment, and a worker killed mid-preview (one comment after recovery). Needs `eval "$(scripts/testenv env)"`.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?}/helmgate
SHARED=${HELMGATE_SHARED_DIR:-${HELMGATE_SOURCE_DIR:?}/../shared}
: "${HELMGATE_TEST_GITEA_URL:?run eval \"\$(scripts/testenv env)\" first}"
: "${HELMGATE_TEST_GITEA_TOKEN:?}" "${HELMGATE_TEST_GITEA_USER:?}" "${HELMGATE_TEST_REDIS_URL:?}" "${HELMGATE_HELM:?}"
: "${HELMGATE_TEST_KUBECONFIG_DEV:?}" "${HELMGATE_TEST_KUBECONFIG_STAGING:?}" "${HELMGATE_TEST_KUBECONFIG_PROD:?}"
: "${HELMGATE_TEST_KUBE_VERSION:?}"

GITEA=$HELMGATE_TEST_GITEA_URL
OWNER=$HELMGATE_TEST_GITEA_USER
RUN=$$$RANDOM
REPO=loop-$RUN
NS=loop-$RUN
CANARY="CANARYvalue${RUN}x"
CANARY2="CANARYsecond${RUN}y"
T=$(mktemp -d)
SERVE=
STRANGER=loopguest$RUN
export HELMGATE_CACHE_DIR=$T/cache
(umask 077 && echo "Authorization: token $HELMGATE_TEST_GITEA_TOKEN" >"$T/gitea.hdr")

cleanup() {
  local rc=$?
  if [ -n "$SERVE" ]; then
    kill -TERM "$SERVE" 2>/dev/null || true
    # A job stuck in helm would hold the graceful stop for its whole timeout: give it 10 s.
    for _ in $(seq 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE" 2>/dev/null || true
    wait "$SERVE" 2>/dev/null || true
  fi
  for c in dev staging prod; do
    kc_var=HELMGATE_TEST_KUBECONFIG_${c^^}
    for r in podinfo canary; do "$HELMGATE_HELM" uninstall "$r-$c" -n "$NS" --kubeconfig "${!kc_var}" >/dev/null 2>&1 || true; done
  done
  api DELETE "/repos/$OWNER/$REPO" >/dev/null 2>&1 || true
  api DELETE "/admin/users/$STRANGER" >/dev/null 2>&1 || true
  if [ $rc -ne 0 ]; then
    echo "--- serve log (tail)" >&2
    tail -n 60 "$T/serve.log" >&2 || true
    cp "$T/serve.log" "${TMPDIR:-/tmp}/helmgate-e2e-loop-serve.log" 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
. "$(dirname "$0")/../../support/gitea_api.sh"
git_() { git -C "$T/repo" -c user.email=loop@example.com -c user.name=loop -c commit.gpgsign=false "$@"; }

# --- the repository: podinfo (chart kept in the repo) on three clusters, and a chart whose Secret holds the canary
mkdir -p "$T/repo/charts" "$T/repo/releases"/{dev,staging,prod} "$T/repo/charts/canary/templates"
cp -r "$SHARED/corpora/charts/podinfo-6.14.1" "$T/repo/charts/podinfo"
printf 'apiVersion: v2\nname: canary\nversion: 0.1.0\n' >"$T/repo/charts/canary/Chart.yaml"
cat >"$T/repo/charts/canary/templates/secret.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}
stringData:
  password: {{ .Values.password | quote }}
YAML
CLONE_URL="$GITEA/$OWNER/$REPO.git"
release() {  # release <cluster> <name> <chart> <values...>
  local c=$1 name=$2 chart=$3; shift 3
  {
    printf 'apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n' "$name-$c" "$NS"
    printf '  releaseName: %s\n  chart:\n    git: %s\n    path: charts/%s\n    ref: main\n  values:\n' "$name-$c" "$CLONE_URL" "$chart"
    for v in "$@"; do printf '    %s\n' "$v"; done
  } >"$T/repo/releases/$c/$name.yaml"
}
release dev canary canary "password: $CANARY"
# Every cluster directory exists on main: a directory that is missing at base makes the release engine
# report its releases' base as unreadable, and then it shows no diff for them.
touch "$T/repo/releases/staging/.keep" "$T/repo/releases/prod/.keep"
git init -q -b main "$T/repo"
git_ add -A && git_ commit -qm "fleet: canary on dev"

gitea_publish

# --- helmgate serve with two in-process workers
SECRET="hook-$RANDOM$RANDOM"
export LOOP_WEBHOOK_SECRET=$SECRET LOOP_API_TOKEN="api-$RANDOM$RANDOM" LOOP_GITEA_TOKEN=$HELMGATE_TEST_GITEA_TOKEN
cat >"$T/hg.yaml" <<YAML
server: {listen: "127.0.0.1:0", shutdown_grace: 20s}
redis: {url: "$HELMGATE_TEST_REDIS_URL"}
queue: {key_prefix: "loop$RUN", backoff_base: 1s, max_attempts: 3}
api: {token_env: LOOP_API_TOKEN}
forges:
- {name: gitea, kind: gitea, api_url: "$GITEA", webhook_secret_env: LOOP_WEBHOOK_SECRET, token_env: LOOP_GITEA_TOKEN}
repos:
- name: $OWNER/$REPO
  url: $CLONE_URL
  forge: gitea
  clusters:
  - {name: dev, paths: [releases/dev], kubeconfig: "$HELMGATE_TEST_KUBECONFIG_DEV", preview_kubeconfig: "$HELMGATE_TEST_KUBECONFIG_DEV_PREVIEW", kube_version: "$HELMGATE_TEST_KUBE_VERSION"}
  - {name: staging, paths: [releases/staging], kubeconfig: "$HELMGATE_TEST_KUBECONFIG_STAGING", preview_kubeconfig: "$HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW", kube_version: "$HELMGATE_TEST_KUBE_VERSION"}
  - {name: prod, paths: [releases/prod], kubeconfig: "$HELMGATE_TEST_KUBECONFIG_PROD", preview_kubeconfig: "$HELMGATE_TEST_KUBECONFIG_PROD_PREVIEW", kube_version: "$HELMGATE_TEST_KUBE_VERSION", requires: [dev]}
YAML
"$HG" serve --config "$T/hg.yaml" --workers 2 >"$T/serve.out" 2>"$T/serve.log" & SERVE=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/serve.out")
[ -n "$HP" ] || fail "serve did not print its port: $(cat "$T/serve.log")"
(umask 077 && echo "Authorization: Bearer $LOOP_API_TOKEN" >"$T/hg.hdr")
hg_api() { curl -sS -f --max-time 20 -H @"$T/hg.hdr" "http://127.0.0.1:$HP/api/v1$1"; }

api POST "/repos/$OWNER/$REPO/hooks" "{\"type\":\"gitea\",\"active\":true,\"branch_filter\":\"*\",
  \"events\":[\"push\",\"pull_request\",\"pull_request_sync\",\"issue_comment\",\"pull_request_comment\"],
  \"config\":{\"url\":\"http://127.0.0.1:$HP/webhooks/gitea\",\"content_type\":\"json\",\"secret\":\"$SECRET\"}}" >/dev/null

# --- 1. a PR: podinfo on three clusters, the canary's value changed
git_ checkout -qb bump
for c in dev staging prod; do release "$c" podinfo podinfo "replicaCount: 1"; done
release dev canary canary "password: $CANARY2"
git_ add -A && git_ commit -qm "podinfo on dev, staging, prod; rotate the canary"
HEAD1=$(git_ rev-parse HEAD)
git_ push -q origin bump
t0=$(now_ms)
PR=$(api POST "/repos/$OWNER/$REPO/pulls" '{"head":"bump","base":"main","title":"loop: podinfo everywhere"}' | json 'd["number"]')
line=$(wait_for 90 "${HEAD1:0:12}" preview_comments "$PR") || fail "no preview comment for ${HEAD1:0:12}: $(preview_comments "$PR")"
t1=$(now_ms)
echo "preview comment after $((t1 - t0)) ms (PR opened -> comment readable)"
CID=${line%% *}
grep -q "podinfo-dev" <<<"$line" || fail "the preview does not name podinfo-dev: $line"
comments "$PR" | grep -q "Validation against the clusters" || fail "the preview has no validation section"
comments "$PR" | grep -q "validation (server-side dry-run)" || fail "the preview did not dry-run through the preview credential"
[ "$(preview_comments "$PR" | wc -l)" -eq 1 ] || fail "more than one preview comment"
statuses() { api GET "/repos/$OWNER/$REPO/commits/$1/statuses" | json '" ".join(sorted(s["context"]+"="+s["status"] for s in d))'; }
st=$(wait_for 20 "helmgate/prod=success" statuses "$HEAD1") || fail "statuses on $HEAD1: $(statuses "$HEAD1")"
grep -q "helmgate/dev=success" <<<"$st" && grep -q "helmgate/staging=success" <<<"$st" || fail "statuses: $st"

# --- 2. a second push edits the same comment
release dev podinfo podinfo "replicaCount: 2"
git_ commit -qam "podinfo: two replicas on dev"
HEAD2=$(git_ rev-parse HEAD)
t0=$(now_ms)
git_ push -q origin bump
line=$(wait_for 90 "${HEAD2:0:12}" preview_comments "$PR") || fail "the comment was not updated for ${HEAD2:0:12}"
t1=$(now_ms)
echo "preview comment updated $((t1 - t0)) ms after the push"
[ "${line%% *}" = "$CID" ] || fail "the second push made a new comment (${line%% *}, was $CID)"
[ "$(preview_comments "$PR" | wc -l)" -eq 1 ] || fail "more than one preview comment after the second push"

# --- 2b. a diff large enough for three comment parts, then a small one: the surplus parts are deleted
mkdir -p "$T/repo/charts/bulk/templates"
printf 'apiVersion: v2\nname: bulk\nversion: 0.1.0\n' >"$T/repo/charts/bulk/Chart.yaml"
cat >"$T/repo/charts/bulk/templates/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
{{- range $i := until (int .Values.lines) }}
  key-{{ $i }}: "a value long enough to make this diff big, line {{ $i }}"
{{- end }}
YAML
release staging bulk bulk "lines: 4000"
git_ add -A && git_ commit -qm "a big ConfigMap on staging"
HEADB=$(git_ rev-parse HEAD)
git_ push -q origin bump
wait_for 90 "${HEADB:0:12}" preview_comments "$PR" >/dev/null || fail "no preview for the big diff ${HEADB:0:12}"
# Part 1 is edited first, the other parts are created after it: wait for the job to finish.
part_count() { echo "parts=$(preview_comments "$PR" | wc -l)"; }
wait_for 60 "parts=[3-9]" part_count >/dev/null || fail "a diff of ~300 KB made $(part_count) comment part(s), want at least 3: $(hg_api "/jobs?kind=preview&limit=1" | cut -c1-600)"
parts=$(preview_comments "$PR" | wc -l)
[ "$(preview_comments "$PR" | head -n1 | cut -d' ' -f1)" = "$CID" ] || fail "part 1 is not the original comment"
git_ rm -rq charts/bulk releases/staging/bulk.yaml
git_ commit -qm "no big ConfigMap"
HEADC=$(git_ rev-parse HEAD)
git_ push -q origin bump
wait_for 90 "${HEADC:0:12}" preview_comments "$PR" >/dev/null || fail "no preview for ${HEADC:0:12}"
wait_for 60 "parts=1$" part_count >/dev/null || fail "surplus parts were not deleted: $(preview_comments "$PR" | cut -c1-80)"
echo "big diff: $parts comment parts, then 1 again (surplus parts deleted)"

# --- 3. two pushes back to back: the first one's job is superseded and posts nothing. Its commit
# adds a release whose chart spins for seconds in its template, so that job is surely still running
# when the next push (which drops that release again) arrives.
slow_chart() {
  mkdir -p "$T/repo/charts/slow/templates"
  printf 'apiVersion: v2\nname: slow\nversion: 0.1.0\n' >"$T/repo/charts/slow/Chart.yaml"
  cat >"$T/repo/charts/slow/templates/cm.yaml" <<'YAML'
{{- $n := 0 }}
{{- range $i := until (int .Values.spin) }}{{- $n = add $n 1 }}{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  spun: {{ $n | quote }}
YAML
}
slow_chart
release dev slow slow "spin: 7000000"
release staging podinfo podinfo "replicaCount: 2"
git_ add -A && git_ commit -qm "podinfo: two replicas on staging; a slow release"
HEAD3=$(git_ rev-parse HEAD)
git_ push -q origin bump
git_ rm -rq charts/slow releases/dev/slow.yaml
release prod podinfo podinfo "replicaCount: 1" "podAnnotations: {loop: \"$RUN\"}"
git_ add -A && git_ commit -qm "podinfo: annotate prod; no slow release"
HEAD4=$(git_ rev-parse HEAD)
git_ push -q origin bump
wait_for 90 "${HEAD4:0:12}" preview_comments "$PR" >/dev/null || fail "no comment for the last push ${HEAD4:0:12}"
job3_done() { hg_api "/jobs?kind=preview&limit=20" | python3 -c '
import json,sys
for j in json.load(sys.stdin)["jobs"]:
    if j["spec"]["head_sha"]==sys.argv[1] and j["state"] in ("succeeded","superseded","dead"): print("done", j["state"])' "$HEAD3"; }
wait_for 60 done job3_done >/dev/null || fail "the job of ${HEAD3:0:12} did not end"
sleep 0.5
preview_comments "$PR" | grep -q "${HEAD4:0:12}" || fail "the comment no longer shows the last push ${HEAD4:0:12}"
[ "$(preview_comments "$PR" | wc -l)" -eq 1 ] || fail "more than one preview comment after back-to-back pushes"
jobs_json=$(hg_api "/jobs?kind=preview&limit=20")
sup=$(python3 -c '
import json,sys
d=json.loads(sys.argv[1]); jobs=d["jobs"]
print(" ".join(j["id"] for j in jobs if j.get("spec",{}).get("head_sha")==sys.argv[2] and (j["state"]=="superseded" or "superseded" in (j.get("result") or ""))))' "$jobs_json" "$HEAD3")
[ -n "$sup" ] || fail "the job of ${HEAD3:0:12} was not superseded: $jobs_json"
for id in $sup; do
  hg_api "/jobs/$id" | grep -q "preview comment:" && fail "superseded job $id posted a comment"
done
echo "superseded preview job(s) $sup posted nothing"

# --- 4. a command by a user without write permission is refused politely
api POST /admin/users "{\"username\":\"$STRANGER\",\"email\":\"$STRANGER@example.com\",\"password\":\"Pw-$RUN-loop!\",\"must_change_password\":false}" >/dev/null
curl -sS -f --max-time 20 -u "$STRANGER:Pw-$RUN-loop!" -H 'Content-Type: application/json' \
  --data '{"body":"/helmgate apply dev"}' "$GITEA/api/v1/repos/$OWNER/$REPO/issues/$PR/comments" >/dev/null
refusal() { comments "$PR" | python3 -c '
import json,sys
for c in json.load(sys.stdin):
    if c["user"]["login"] != sys.argv[1] and "@"+sys.argv[1] in c["body"]: print(c["id"], c["body"].replace("\n"," "))' "$STRANGER"; }
line=$(wait_for 60 "write permission" refusal) || fail "no refusal for $STRANGER: $(refusal)"
echo "refused: ${line:0:160}"

# --- 5. merge: apply on dev, staging, prod; a comment on the merged PR
t0=$(now_ms)
api POST "/repos/$OWNER/$REPO/pulls/$PR/merge" '{"Do":"merge"}' >/dev/null
# The merge commit from Git itself: Gitea's GET of a PR can stall for a minute right after a merge.
MERGE=$(git_ ls-remote origin refs/heads/main | cut -f1)
applied() { comments "$PR" | python3 -c '
import json,sys
for c in json.load(sys.stdin):
    if "helmgate:preview:apply/" in c["body"]: print(c["id"], c["body"].replace("\n"," "))'; }
line=$(wait_for 150 "helmgate apply of" applied) || fail "no apply comment on PR $PR: $(hg_api '/jobs?kind=apply')"
t1=$(now_ms)
echo "apply comment $((t1 - t0)) ms after the merge"
for c in dev staging prod; do
  grep -q "\`$c\` | applied" <<<"$line" || fail "cluster $c not applied: $line"
  kc_var=HELMGATE_TEST_KUBECONFIG_${c^^}
  list=$("$HELMGATE_HELM" list -n "$NS" --kubeconfig "${!kc_var}")
  echo "helm list on $c:"; echo "$list" | sed 's/^/  /'
  grep -q "^podinfo-$c" <<<"$list" || fail "podinfo-$c is not installed on $c"
done
st=$(wait_for 20 "helmgate/prod=success" statuses "$MERGE") || fail "statuses on the merge commit: $(statuses "$MERGE")"

# --- 6. a replay by comment: the owner (write permission) replays the apply job; nothing changes
APPLY_ID=$(hg_api "/jobs?kind=apply&limit=5" | json 'd["jobs"][0]["id"]')
api POST "/repos/$OWNER/$REPO/issues/$PR/comments" "{\"body\":\"/helmgate replay $APPLY_ID\"}" >/dev/null
replayed() { comments "$PR" | python3 -c '
import json,sys
for c in json.load(sys.stdin):
    if c["body"].startswith("Replaying apply job"): print(c["id"], c["body"].replace("\n"," "))'; }
line=$(wait_for 60 "as job" replayed) || fail "no reply to /helmgate replay $APPLY_ID"
REPLAY_ID=$(sed -n 's/.* as job `\([^`]*\)`.*/\1/p' <<<"$line")
replay_done() { hg_api "/jobs/$REPLAY_ID" | json 'd["state"]+" "+str(d["replay_of"])'; }
wait_for 90 "^succeeded $APPLY_ID" replay_done >/dev/null || fail "replay job $REPLAY_ID: $(hg_api "/jobs/$REPLAY_ID")"
for c in dev staging prod; do
  kc_var=HELMGATE_TEST_KUBECONFIG_${c^^}
  rev=$("$HELMGATE_HELM" list -n "$NS" --kubeconfig "${!kc_var}" -o json | json '[r["revision"] for r in d if r["name"]=="podinfo-'$c'"][0]')
  [ "$rev" = 1 ] || fail "the replay changed podinfo-$c (revision $rev)"
done
echo "replay $REPLAY_ID of apply $APPLY_ID left every release at revision 1"

# --- 7. the canary appears in no comment and no job answer
all=$(comments "$PR")
! grep -q "$CANARY\|$CANARY2" <<<"$all" || fail "a Secret value appears in a comment"
! hg_api "/jobs?limit=50" | grep -q "$CANARY\|$CANARY2" || fail "a Secret value appears in the jobs API"
! grep -q "$CANARY\|$CANARY2\|$HELMGATE_TEST_GITEA_TOKEN" "$T/serve.log" || fail "a secret appears in the serve log"
# --- 8. a worker killed in the middle of a preview job: after recovery exactly one preview comment.
# serve again on the same port (the webhook stays) without in-process workers, a short lease, and a
# separate `helmgate worker` that is SIGKILLed while it renders a chart that spins for seconds.
kill -TERM "$SERVE"; wait "$SERVE" || fail "serve exited non-zero on SIGTERM"
sed -e "s/listen: \"127.0.0.1:0\"/listen: \"127.0.0.1:$HP\"/" -e "s/max_attempts: 3}/max_attempts: 3, visibility_timeout: 3s}/" \
  "$T/hg.yaml" >"$T/hg2.yaml"
"$HG" serve --config "$T/hg2.yaml" --workers 0 >"$T/serve2.out" 2>"$T/serve2.log" & SERVE=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/serve2.out" 2>/dev/null && break; sleep 0.05; done
grep -q "^listening on 127.0.0.1:$HP" "$T/serve2.out" || fail "serve did not restart on port $HP: $(cat "$T/serve2.log")"
"$HG" worker --config "$T/hg2.yaml" --concurrency 1 2>"$T/worker1.log" & W1=$!
git_ checkout -q main && git_ pull -q origin main 2>/dev/null && git_ checkout -qb killed
slow_chart
release staging slow slow "spin: 9000000"
git_ add -A && git_ commit -qm "a slow release on staging"
HEADK=$(git_ rev-parse HEAD)
git_ push -q origin killed
PR2=$(api POST "/repos/$OWNER/$REPO/pulls" '{"head":"killed","base":"main","title":"loop: worker killed mid-preview"}' | json 'd["number"]')
job_k() { hg_api "/jobs?kind=preview&limit=5" | python3 -c '
import json,sys
for j in json.load(sys.stdin)["jobs"]:
    if j["spec"]["head_sha"]==sys.argv[1]: print(j["id"], j["state"], j["attempts"])' "$HEADK"; }
line=$(wait_for 60 " active " job_k) || fail "the preview job of PR $PR2 never became active: $(job_k)"
KID=${line%% *}
sleep 1
kill -KILL "$W1"; wait "$W1" 2>/dev/null || true
"$HG" worker --config "$T/hg2.yaml" --concurrency 1 2>"$T/worker2.log" & W2=$!
wait_for 90 "^$KID succeeded" job_k >/dev/null || { kill -TERM "$W2"; fail "job $KID did not recover: $(job_k)"; }
kill -TERM "$W2"; wait "$W2" || true
grep -q "job $KID (preview.*started" "$T/worker1.log" && grep -q "job $KID (preview.*started" "$T/worker2.log" ||
  fail "job $KID did not run on both workers: $(grep -h "job $KID" "$T/worker1.log" "$T/worker2.log")"
n=$(preview_comments "$PR2" | wc -l)
[ "$n" -eq 1 ] || fail "after the killed worker, PR $PR2 has $n preview comments"
preview_comments "$PR2" | grep -q "${HEADK:0:12}" || fail "the recovered preview does not show ${HEADK:0:12}"
echo "worker killed mid-preview: job $KID ran again on a second worker, one comment on PR $PR2"
! grep -q "$CANARY\|$CANARY2\|$HELMGATE_TEST_GITEA_TOKEN" "$T/serve2.log" "$T/worker1.log" "$T/worker2.log" ||
  fail "a secret appears in a log"

echo "loop: all checks passed"
