#!/usr/bin/env bash
# A canary secret in every form a chart can give it, searched in every output of the real `helmgate
# preview` (markdown, text, JSON): a multi-line PEM brought in through valuesFrom Secret, a token from the
# same Secret copied into annotations as is, upper- and lower-cased, base64 (std, url-safe, of a prefix,
# embedded in other text), JSON-quoted; Secrets inside a v1 List and a SecretList (their values also
# copied into a ConfigMap); a `fail` whose message carries the transformed token. Then the modes of the
# render cache and of every directory helmgate created (0600 files in 0700 directories), with umask 000.
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin sec-canary helm kubectl

TOKEN="CanaryTok3n-$RANDOM$RANDOM-q8Zr"            # single-line secret value
PEMLINE1="MIIEvQIBADANBgkqhkiG9w0BAQEFAASCPemCanaryLineOne$RANDOM"
PEMLINE2="U2VjcmV0UGVtQ2FuYXJ5TGluZVR3b0JvZHlCeXRlcw$RANDOM"
PEMLAST="kQ=="
LISTCANARY="ListCanary-$RANDOM$RANDOM-x"
SLISTCANARY="SecretListCanary-$RANDOM$RANDOM-y"

REPO=$TMP/repo
mkdir -p "$REPO/charts/canary/templates" "$REPO/releases"
printf 'apiVersion: v2\nname: canary\nversion: 0.1.0\n' >"$REPO/charts/canary/Chart.yaml"
cat >"$REPO/charts/canary/templates/copies.yaml" <<'YAML'
{{- if not .Values.failNow }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-copies
  annotations:
    copy: {{ .Values.token | quote }}
    upper: {{ upper .Values.token | quote }}
    lower: {{ lower .Values.token | quote }}
    b64: {{ b64enc .Values.token | quote }}
    b64prefix: {{ .Values.token | trunc 14 | b64enc | quote }}
    b64embedded: {{ printf "user:%s" .Values.token | b64enc | quote }}
    b64url: {{ b64enc .Values.token | replace "+" "-" | replace "/" "_" | quote }}
    json: {{ toJson .Values.tls | quote }}
    listcopy: {{ .Values.listCopy | default "" | quote }}
data:
  tls.key: |
{{ .Values.tls.key | indent 4 }}
  pem.b64: {{ b64enc .Values.tls.key }}
  pem.json: {{ toJson .Values.tls.key }}
{{- end }}
YAML
cat >"$REPO/charts/canary/templates/lists.yaml" <<'YAML'
{{- if not .Values.failNow }}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: {{ .Release.Name }}-in-list
  stringData:
    token: LISTCANARY_PLACEHOLDER
---
apiVersion: v1
kind: SecretList
items:
- metadata:
    name: {{ .Release.Name }}-in-secretlist
  data:
    token: {{ "SLISTCANARY_PLACEHOLDER" | b64enc }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-list-copy
data:
  copied: "LISTCANARY_PLACEHOLDER and SLISTCANARY_PLACEHOLDER"
{{- end }}
YAML
sed -i "s/SLISTCANARY_PLACEHOLDER/$SLISTCANARY/g; s/LISTCANARY_PLACEHOLDER/$LISTCANARY/g" "$REPO/charts/canary/templates/lists.yaml"
cat >"$REPO/charts/canary/templates/fail.yaml" <<'YAML'
{{- if .Values.failNow }}{{ fail (printf "refusing token %s (%s)" (upper .Values.token) (b64enc .Values.token)) }}{{- end }}
YAML
cat >"$REPO/releases/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: canary-values
  namespace: demo
stringData:
  values.yaml: |
    token: $TOKEN
    tls:
      key: |
        -----BEGIN PRIVATE KEY-----
        $PEMLINE1
        $PEMLINE2
        $PEMLAST
        -----END PRIVATE KEY-----
YAML
for name in canary failing; do
  extra=""; [ $name = failing ] && extra="    failNow: true"
  cat >"$REPO/releases/$name.yaml" <<YAML
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: $name
  namespace: demo
spec:
  releaseName: $name
  chart:
    git: https://git.example.com/acme/fleet.git
    path: charts/canary
  valuesFrom:
  - secretKeyRef:
      name: canary-values
      key: values.yaml
  values:
$extra
    plain: shown-$name
YAML
done
sed -i '/^$/d' "$REPO/releases/"*.yaml
cat >"$TMP/hg.yaml" <<YAML
forges: [{name: github, kind: github, webhook_secret_env: SEC_UNUSED_SECRET}]
repos:
- name: acme/fleet
  url: https://git.example.com/acme/fleet.git
  forge: github
  clusters:
  - {name: dev, paths: [releases], kube_version: "1.35.0"}
YAML

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
git -C "$REPO" init -q -b main
# The base has the cluster's directory (a directory missing at base makes that side unreadable).
touch "$REPO/releases/.keep"
git -C "$REPO" add releases/.keep && git -C "$REPO" -c commit.gpgsign=false commit -qm base
BASE=$(git -C "$REPO" rev-parse HEAD)
git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -qm canary
HEAD=$(git -C "$REPO" rev-parse HEAD)

# umask 000: every mode below must come from helmgate itself, not from the caller's umask.
export HELMGATE_CACHE_DIR=$TMP/cache
for fmt in markdown text json; do
  set +e
  (umask 000 && "$BIN" preview --repo "$REPO" --base "$BASE" --head "$HEAD" --config "$TMP/hg.yaml" \
     --format "$fmt" --max-comment-bytes 0 >"$TMP/out.$fmt" 2>"$TMP/err.$fmt")
  rc=$?
  set -e
  # exit 1: the failing release is an error, by design
  [ $rc -eq 1 ] || fail "$fmt: exit $rc, want 1 (the failing release): $(head -c 2000 "$TMP/err.$fmt")"
done

b64() { printf '%s' "$1" | base64 -w0; }
b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_'; }
upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }
# Every form of every canary; grep -F -i covers upper- and lower-cased copies.
forms=("$TOKEN" "$(b64 "$TOKEN" | head -c 16)" "$(b64url "$TOKEN" | head -c 16)" "$(b64 "${TOKEN:0:14}" | head -c 16)"
       "$(b64 "user:$TOKEN" | cut -c 9-24)" "$PEMLINE1" "$PEMLINE2" "${PEMLINE1:0:24}" "${PEMLINE2:10:24}"
       "$LISTCANARY" "$SLISTCANARY" "$(b64 "$SLISTCANARY" | head -c 16)" "$(b64 "$LISTCANARY" | head -c 16)"
       "CanaryTok3n" "PemCanaryLine")
pem_b64=$(printf -- '-----BEGIN PRIVATE KEY-----\n%s\n%s\n%s\n-----END PRIVATE KEY-----\n' "$PEMLINE1" "$PEMLINE2" "$PEMLAST" | base64 -w0)
forms+=("${pem_b64:44:24}")
for fmt in markdown text json; do
  out=$TMP/out.$fmt
  [ -s "$out" ] || { fail "$fmt: empty output"; continue; }
  leaked=0
  for f in "${forms[@]}"; do
    if grep -F -i -q -- "$f" "$out" "$TMP/err.$fmt"; then fail "$fmt: canary form '$f' in the output"; leaked=1; fi
  done
  # The short last PEM line never stands as a line of its own.
  if grep -E -q "(^|[^A-Za-z0-9+/=_-]|\\\\n)$PEMLAST([^A-Za-z0-9+/=_-]|$)" "$out"; then fail "$fmt: the PEM's last line is shown"; leaked=1; fi
  grep -q '<redacted hmac:' "$out" || { fail "$fmt: no redaction marker at all (did anything render?)"; leaked=1; }
  grep -q 'canary-copies' "$out" || { fail "$fmt: the canary release's ConfigMap is missing (nothing to check)"; leaked=1; }
  grep -q 'refusing token' "$out" || { fail "$fmt: the fail message is not reported"; leaked=1; }
  grep -q 'in-secretlist' "$out" || { fail "$fmt: the SecretList item is not shown"; leaked=1; }
  grep -q 'upper' "$out" && grep -q 'tls.key' "$out" || { fail "$fmt: keys must be shown"; leaked=1; }
  [ $leaked = 0 ] && pass "$fmt: no canary in any form"
done

# --- modes: the render cache holds the rendered Secrets in clear, so it must be private
cache=$HELMGATE_CACHE_DIR
files=$(find "$cache/renders" -type f | wc -l)
[ "$files" -ge 1 ] || fail "no render cache file under $cache/renders"
grep -rqF -- "$LISTCANARY" "$cache/renders" || fail "the render cache does not hold the canary (then this check proves nothing)"
bad=$(find "$cache/renders" -type f ! -perm 0600 -printf '%m %p\n' || true)
[ -z "$bad" ] || fail "render cache files not 0600: $bad"
bad=$(find "$cache" -type d ! -perm 0700 -printf '%m %p\n' || true)
[ -z "$bad" ] || fail "directories not 0700: $bad"
# helm's and git's own files too: nothing readable or writable by group or others (chart files keep an
# executable bit when Git says so, which is not content).
bad=$(find "$cache" -type f -perm /066 -printf '%m %p\n' || true)
[ -z "$bad" ] || fail "files open to group/others: $bad"
[ "$(stat -c %a "$cache")" = 700 ] || fail "cache root is $(stat -c %a "$cache"), want 700"
[ $failures -eq 0 ] && pass "render cache: $files files 0600 in 0700 directories (umask 000)"

if [ $failures -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "preview canary: all checks passed"
