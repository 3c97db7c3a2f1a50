#!/usr/bin/env bash
# SOPS-encrypted values through the whole loop, against the real servers of scripts/testenv and the real
# sops and age (scripts/sops-tools): `helmgate serve --workers 2` holds one age key, by reference
# (sops.age_keys: [{env: ...}]); a fresh Gitea repository declares
#   * releases/dev: a HelmRelease whose valuesFrom Secret is SOPS-encrypted (encrypted_regex data|stringData,
#     two recipients, helmgate holds the second), and a Flux Kustomization with spec.decryption applying
#   * apps/: a HelmRelease whose spec.values are SOPS-encrypted (a JSON-typed int and a "1.10" string).
# The base (sopsapp) is installed first; a PR rotates the Secret's canary and adds apps/: the preview names
# the changed key (names only) and no canary; the merge applies, and the objects on the dev API server hold the plaintext (types kept); no canary in any
# comment, jobs API answer, Redis key or log. Then a PR with a tampered value and one encrypted for a key
# helmgate does not hold: the preview fails naming the MAC and the recipients. Needs
# `eval "$(scripts/testenv env)"`.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?}/helmgate
: "${HELMGATE_TEST_GITEA_URL:?run eval \"\$(scripts/testenv env)\" first}"
: "${HELMGATE_TEST_GITEA_TOKEN:?}" "${HELMGATE_TEST_GITEA_USER:?}" "${HELMGATE_TEST_REDIS_URL:?}" "${HELMGATE_HELM:?}"
: "${HELMGATE_TEST_KUBECONFIG_DEV:?}" "${HELMGATE_TEST_KUBE_VERSION:?}" "${HELMGATE_KUBECTL:?}"
TOOLS=$(bash "${HELMGATE_SOURCE_DIR:?}/scripts/sops-tools")/bin

GITEA=$HELMGATE_TEST_GITEA_URL
OWNER=$HELMGATE_TEST_GITEA_USER
RUN=$$$RANDOM
REPO=sops-$RUN
NS=sops-$RUN
CANARY1="SopsCanaryOne${RUN}a"
CANARY2="SopsCanaryTwo${RUN}b"
CANARY3="SopsCanaryKs${RUN}c"
T=$(mktemp -d)
SERVE=
export HELMGATE_CACHE_DIR=$T/cache
(umask 077 && echo "Authorization: token $HELMGATE_TEST_GITEA_TOKEN" >"$T/gitea.hdr")

cleanup() {
  local rc=$?
  if [ -n "$SERVE" ]; then
    kill -TERM "$SERVE" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE" 2>/dev/null || true
    wait "$SERVE" 2>/dev/null || true
  fi
  for r in sopsapp ksapp; do "$HELMGATE_HELM" uninstall "$r" -n "$NS" --kubeconfig "$HELMGATE_TEST_KUBECONFIG_DEV" >/dev/null 2>&1 || true; done
  "$HELMGATE_KUBECTL" --kubeconfig "$HELMGATE_TEST_KUBECONFIG_DEV" delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
  api DELETE "/repos/$OWNER/$REPO" >/dev/null 2>&1 || true
  if [ $rc -ne 0 ]; then
    echo "--- serve log (tail)" >&2
    tail -n 60 "$T/serve.log" >&2 || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "$0")/../../support/gitea_api.sh"
PREVIEW_WIDTH=6000
git_() { git -C "$T/repo" -c user.email=sops@example.com -c user.name=sops -c commit.gpgsign=false "$@"; }

# --- keys: helmgate holds HELD; the valuesFrom Secret is also encrypted for OTHER; STRANGER is nobody's
keygen() { "$TOOLS/age-keygen" 2>/dev/null; }
HELD_FILE=$(keygen); OTHER_FILE=$(keygen); STRANGER_FILE=$(keygen)
pub() { sed -n 's/^# public key: //p' <<<"$1"; }
HELD=$(pub "$HELD_FILE"); OTHER=$(pub "$OTHER_FILE"); STRANGER=$(pub "$STRANGER_FILE")
[ -n "$HELD" ] && [ -n "$OTHER" ] && [ -n "$STRANGER" ] || fail "age-keygen gave no public key"
sops_enc() {  # sops_enc <recipients> <file> [flags...]: encrypts the file in place
  local rs=$1 f=$2; shift 2
  HOME=$T "$TOOLS/sops" --encrypt --age "$rs" "$@" --in-place "$f"
}

# --- the repository
flux_apps() {  # a Flux Kustomization with spec.decryption, and the path it applies
cat >"$T/repo/releases/dev/flux.yaml" <<YAML
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  decryption:
    provider: sops
    secretRef: {name: sops-age}
YAML
cat >"$T/repo/apps/ksapp.yaml" <<YAML
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: ksapp
  namespace: $NS
spec:
  releaseName: ksapp
  chart:
    git: $CLONE_URL
    path: charts/echo
    ref: main
  values:
    token: $CANARY3
    port: 8080
    tag: "1.10"
YAML
sops_enc "$HELD" "$T/repo/apps/ksapp.yaml" --encrypted-regex '^values$'
  grep -q "$CANARY3" "$T/repo/apps/ksapp.yaml" && fail "sops left the Kustomization canary in clear"
  return 0
}
mkdir -p "$T/repo/charts/echo/templates" "$T/repo/releases/dev" "$T/repo/apps"
printf 'apiVersion: v2\nname: echo\nversion: 0.1.0\n' >"$T/repo/charts/echo/Chart.yaml"
cat >"$T/repo/charts/echo/templates/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-values
data:
  values.json: {{ toJson .Values | quote }}
YAML
CLONE_URL="$GITEA/$OWNER/$REPO.git"
cat >"$T/repo/releases/dev/app.yaml" <<YAML
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: sopsapp
  namespace: $NS
spec:
  releaseName: sopsapp
  chart:
    git: $CLONE_URL
    path: charts/echo
    ref: main
  valuesFrom:
  - secretKeyRef: {name: sopsapp-values, key: values.yaml}
  values:
    plain: visible
YAML
secret() {  # the valuesFrom Secret with canary $1, encrypted for OTHER and HELD (helmgate holds the second)
  cat >"$T/repo/releases/dev/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: sopsapp-values
  namespace: $NS
type: Opaque
stringData:
  values.yaml: |
    password: $1
    replicas: 2
    version: "1.10"
YAML
  sops_enc "$OTHER,$HELD" "$T/repo/releases/dev/secret.yaml" --encrypted-regex '^(data|stringData)$'
}
secret "$CANARY1"
grep -q "$CANARY1" "$T/repo/releases/dev/secret.yaml" && fail "sops left the canary in clear"
git init -q -b main "$T/repo"
git_ add -A && git_ commit -qm "fleet: SOPS-encrypted values"

gitea_publish

# --- helmgate serve with two in-process workers; the age key only in the environment
SECRET="hook-$RANDOM$RANDOM"
export SOPS_HOOK=$SECRET SOPS_API_TOKEN="api-$RANDOM$RANDOM" SOPS_GITEA_TOKEN=$HELMGATE_TEST_GITEA_TOKEN
export HG_SOPS_AGE_KEY=$HELD_FILE
unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE
cat >"$T/hg.yaml" <<YAML
server: {listen: "127.0.0.1:0", shutdown_grace: 20s}
redis: {url: "$HELMGATE_TEST_REDIS_URL"}
queue: {key_prefix: "sops$RUN", backoff_base: 1s, max_attempts: 2}
api: {token_env: SOPS_API_TOKEN}
forges:
- {name: gitea, kind: gitea, api_url: "$GITEA", webhook_secret_env: SOPS_HOOK, token_env: SOPS_GITEA_TOKEN}
sops:
  age_keys: [{env: HG_SOPS_AGE_KEY}]
repos:
- name: $OWNER/$REPO
  url: $CLONE_URL
  forge: gitea
  clusters:
  - {name: dev, paths: [releases/dev], kubeconfig: "$HELMGATE_TEST_KUBECONFIG_DEV", preview_kubeconfig: "$HELMGATE_TEST_KUBECONFIG_DEV_PREVIEW", kube_version: "$HELMGATE_TEST_KUBE_VERSION"}
YAML
"$HG" serve --config "$T/hg.yaml" --workers 2 >"$T/serve.out" 2>"$T/serve.log" & SERVE=$!
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/serve.out")
[ -n "$HP" ] || fail "serve did not print its port: $(cat "$T/serve.log")"
(umask 077 && echo "Authorization: Bearer $SOPS_API_TOKEN" >"$T/hg.hdr")
hg_api() { curl -sS -f --max-time 20 -H @"$T/hg.hdr" "http://127.0.0.1:$HP/api/v1$1"; }
api POST "/repos/$OWNER/$REPO/hooks" "{\"type\":\"gitea\",\"active\":true,\"branch_filter\":\"*\",
  \"events\":[\"push\",\"pull_request\",\"pull_request_sync\"],
  \"config\":{\"url\":\"http://127.0.0.1:$HP/webhooks/gitea\",\"content_type\":\"json\",\"secret\":\"$SECRET\"}}" >/dev/null

# --- 1. a PR rotating the canary: the preview names the changed key, never a value
git_ checkout -qb rotate
secret "$CANARY2"
flux_apps
git_ add -A && git_ commit -qm "rotate the SOPS canary; apps/ through a Flux Kustomization with spec.decryption"
HEAD1=$(git_ rev-parse HEAD)
git_ push -q origin rotate
PR=$(api POST "/repos/$OWNER/$REPO/pulls" '{"head":"rotate","base":"main","title":"sops: rotate"}' | json 'd["number"]')
line=$(wait_for 120 "${HEAD1:0:12}" preview_comments "$PR") || fail "no preview comment for ${HEAD1:0:12}: $(hg_api '/jobs?limit=3' | cut -c1-2000)"
grep -q "sopsapp" <<<"$line" || fail "the preview does not name sopsapp: ${line:0:3000}"
grep -q "SOPS-encrypted values changed" <<<"$line" || fail "the preview does not say which SOPS values changed: ${line:0:3000}"
grep -q "stringData.values.yaml" <<<"$line" || fail "the preview does not name the changed key: ${line:0:3000}"
grep -q "sopsapp-values" <<<"$line" || fail "the preview does not show the rendered ConfigMap holding the values (nothing to redact): ${line:0:3000}"
echo "ok: the preview names the changed SOPS key"

# --- 2. merge: apply; the objects on the cluster hold the plaintext, typed
api POST "/repos/$OWNER/$REPO/pulls/$PR/merge" '{"Do":"merge"}' >/dev/null
applied() { comments "$PR" | python3 -c '
import json,sys
for c in json.load(sys.stdin):
    if "helmgate:preview:apply/" in c["body"]: print(c["id"], c["body"].replace("\n"," "))'; }
line=$(wait_for 180 "helmgate apply of" applied) || fail "no apply comment on PR $PR: $(hg_api '/jobs?kind=apply' | cut -c1-2000)"
grep -q '`dev` | applied' <<<"$line" || fail "dev not applied: $line"
live() { "$HELMGATE_KUBECTL" --kubeconfig "$HELMGATE_TEST_KUBECONFIG_DEV" get configmap "$1-values" -n "$NS" -o jsonpath='{.data.values\.json}'; }
got=$(live sopsapp)
python3 - "$got" "$CANARY2" <<'PY' || fail "sopsapp values on the cluster: $got"
import json, sys
v = json.loads(sys.argv[1])
assert v == {"password": sys.argv[2], "replicas": 2, "version": "1.10", "plain": "visible"}, v
PY
got=$(live ksapp)
python3 - "$got" "$CANARY3" <<'PY' || fail "ksapp values on the cluster: $got"
import json, sys
v = json.loads(sys.argv[1])
assert v == {"token": sys.argv[2], "port": 8080, "tag": "1.10"}, v
PY
echo "ok: the merge applied the decrypted values (valuesFrom Secret and spec.decryption), types kept"

# --- 3. a PR with a tampered value and a file encrypted for a key helmgate does not hold
git_ checkout -q main && git_ pull -q origin main
git_ checkout -qb broken
python3 - "$T/repo/releases/dev/secret.yaml" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
m = re.search(r"values\.yaml: ENC\[AES256_GCM,data:([A-Za-z0-9+/]+)", s)
d = m.group(1); d = ("B" if d[0] == "A" else "A") + d[1:]
open(p, "w").write(s[:m.start(1)] + d + s[m.end(1):])
PY
cat >"$T/repo/apps/stranger.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: stranger
  namespace: $NS
stringData:
  token: nothing-to-see
YAML
sops_enc "$STRANGER" "$T/repo/apps/stranger.yaml" --encrypted-regex '^(data|stringData)$'
git_ add -A && git_ commit -qm "a tampered value, a file for another key"
HEAD2=$(git_ rev-parse HEAD)
git_ push -q origin broken
PR2=$(api POST "/repos/$OWNER/$REPO/pulls" '{"head":"broken","base":"main","title":"sops: broken"}' | json 'd["number"]')
line=$(wait_for 120 "${HEAD2:0:12}" preview_comments "$PR2") || fail "no preview comment for ${HEAD2:0:12}"
grep -q "releases/dev/secret.yaml" <<<"$line" || fail "the tampered file is not named: ${line:0:3000}"
grep -q "does not decrypt" <<<"$line" || fail "the tampered value is not reported: ${line:0:3000}"
grep -q "apps/stranger.yaml" <<<"$line" || fail "the file for another key is not named: ${line:0:3000}"
grep -q "$STRANGER" <<<"$line" || fail "the recipients tried are not named: ${line:0:3000}"
grep -q "$HELD" <<<"$line" || fail "the key helmgate holds is not named: ${line:0:3000}"
echo "ok: a tampered value and a file for another key fail the preview, naming the files and recipients"

# --- 4. the canaries nowhere: comments, jobs API, Redis, logs
for pr in "$PR" "$PR2"; do comments "$pr" >>"$T/comments.json"; done
hg_api '/jobs?limit=1000' >"$T/jobs.json"
python3 - "$T/jobs.json" "$OWNER/$REPO" >"$T/ids" <<'PY'
import json, sys
for j in json.load(open(sys.argv[1]))["jobs"]:
    if j["repo"] == sys.argv[2]: print(j["id"])
PY
[ "$(wc -l <"$T/ids")" -ge 3 ] || fail "fewer than 3 jobs for $OWNER/$REPO in the jobs API"
cp "$T/jobs.json" "$T/api.txt"
while read -r id; do hg_api "/jobs/$id" >>"$T/api.txt"; echo >>"$T/api.txt"; done <"$T/ids"
hits=""
while IFS= read -r k; do
  [ -n "$k" ] || continue
  case $(redis-cli -u "$HELMGATE_TEST_REDIS_URL" type "$k") in
    string) v=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" get "$k") ;;
    hash) v=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" hgetall "$k") ;;
    list) v=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" lrange "$k" 0 -1) ;;
    set) v=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" smembers "$k") ;;
    zset) v=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" zrange "$k" 0 -1 withscores) ;;
    stream) v=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" xrange "$k" - +) ;;
    *) v="" ;;
  esac
  echo "$k $v" >>"$T/redis.txt"
done < <(redis-cli -u "$HELMGATE_TEST_REDIS_URL" --scan --pattern "*sops$RUN*")
[ -s "$T/redis.txt" ] || fail "no Redis key of this run"
kill -TERM "$SERVE"; wait "$SERVE" || true; SERVE=
for c in "$CANARY1" "$CANARY2" "$CANARY3"; do
  for f in comments.json api.txt redis.txt serve.log serve.out; do
    ! grep -qF "$c" "$T/$f" || fail "canary $c is in $f"
  done
done
grep -q "AGE-SECRET-KEY" "$T/serve.log" "$T/api.txt" "$T/redis.txt" "$T/comments.json" && fail "an age private key is in an output"
echo "ok: no canary in $(wc -l <"$T/ids") jobs, $(wc -l <"$T/redis.txt") Redis keys, the comments or the logs"
echo "sops e2e: all checks passed"
