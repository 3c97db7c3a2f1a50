#!/usr/bin/env bash
# `helmgate preview` (the real binary, no server) decrypts SOPS files with the key in SOPS_AGE_KEY or in the
# file SOPS_AGE_KEY_FILE names, as sops does: a HelmRelease whose valuesFrom Secret is SOPS-encrypted (made
# by the real sops) renders with the plaintext, the report names the changed key and never the canary (in
# markdown, text and JSON); without a key, or with another one, the preview fails naming the file and the
# recipients (public keys only). Once for a plain path and once for a kustomization (documents from
# `kustomize build`). Needs HELMGATE_HELM (scripts/testenv env).
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin sops-cli helm
hg_git_identity
TOOLS=$(bash "${HELMGATE_SOURCE_DIR:?}/scripts/sops-tools")/bin
KEY=$("$TOOLS/age-keygen" 2>/dev/null); OTHER=$("$TOOLS/age-keygen" 2>/dev/null)
PUB=$(sed -n 's/^# public key: //p' <<<"$KEY"); OTHER_PUB=$(sed -n 's/^# public key: //p' <<<"$OTHER")
C1="SopsCliOne$RANDOM$RANDOM"; C2="SopsCliTwo$RANDOM$RANDOM"
scenario() {  # scenario plain|kustomize
REPO=$TMP/repo-$1
mkdir -p "$REPO/charts/echo/templates" "$REPO/releases"
printf 'apiVersion: v2\nname: echo\nversion: 0.1.0\n' >"$REPO/charts/echo/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-values\ndata:\n  values.json: {{ toJson .Values | quote }}\n' \
  >"$REPO/charts/echo/templates/cm.yaml"
cat >"$REPO/releases/app.yaml" <<'YAML'
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: app, namespace: demo}
spec:
  releaseName: app
  chart: {git: "https://git.example.com/acme/fleet.git", path: charts/echo}
  valuesFrom:
  - secretKeyRef: {name: app-values, key: values.yaml}
YAML
secret() {
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: app-values, namespace: demo}\nstringData:\n  values.yaml: |\n    password: %s\n    port: 8080\n' \
    "$1" >"$REPO/releases/secret.yaml"
  HOME=$TMP "$TOOLS/sops" --encrypt --age "$PUB" --encrypted-regex '^(data|stringData)$' --in-place "$REPO/releases/secret.yaml"
}
cat >"$TMP/hg.yaml" <<YAML
repos:
- url: https://git.example.com/acme/fleet.git
  clusters:
  - {name: dev, paths: [releases], kube_version: "1.35.0"}
YAML
# kustomize: the path is a kustomization, its documents come out of `kustomize build`.
[ "$1" = plain ] || printf "resources: [app.yaml, secret.yaml]\n" >"$REPO/releases/kustomization.yaml"
git -C "$REPO" init -q -b main
secret "$C1"
git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -qm base
BASE=$(git -C "$REPO" rev-parse HEAD)
secret "$C2"
git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -qm rotate
HEAD=$(git -C "$REPO" rev-parse HEAD)
export HELMGATE_CACHE_DIR=$TMP/cache-$1
unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE
preview() {  # preview <format> [VAR=value...]
  local fmt=$1; shift
  set +e
  env "$@" "$BIN" preview --repo "$REPO" --base "$BASE" --head "$HEAD" --config "$TMP/hg.yaml" --format "$fmt" \
    --max-comment-bytes 0 >"$TMP/out" 2>"$TMP/err"
  rc=$?
  set -e
}

(umask 077 && printf '%s\n' "$KEY" >"$TMP/keys.txt")
for how in "SOPS_AGE_KEY=$KEY" "SOPS_AGE_KEY_FILE=$TMP/keys.txt"; do
  for fmt in markdown text json; do
    preview "$fmt" "$how"
    label="$1: ${how%%=*} $fmt"
    [ $rc -eq 2 ] || { fail "$label: exit $rc, want 2 (changes): $(head -c 2000 "$TMP/err") $(head -c 2000 "$TMP/out")"; continue; }
    grep -q "SOPS-encrypted values changed" "$TMP/out" || fail "$label: the changed SOPS key is not named: $(head -c 2000 "$TMP/out")"
    grep -q "stringData.values.yaml" "$TMP/out" || fail "$label: the key name is missing"
    grep -q "app-values" "$TMP/out" || fail "$label: the rendered ConfigMap is not shown (nothing to redact)"
    grep -q "redacted hmac:" "$TMP/out" || fail "$label: no redaction marker (were the decrypted values rendered?)"
    if grep -qF -e "$C1" -e "$C2" "$TMP/out" "$TMP/err"; then fail "$label: a canary is in the output"; else pass "$label: decrypted, changed key named, no canary"; fi
  done
done

preview text
[ $rc -eq 1 ] || fail "without a key: exit $rc, want 1"
grep -q "releases/secret.yaml" "$TMP/out" "$TMP/err" || fail "without a key: the file is not named: $(head -c 2000 "$TMP/out")"
grep -q "$PUB" "$TMP/out" "$TMP/err" || fail "without a key: the recipient is not named"
grep -q "SOPS_AGE_KEY" "$TMP/out" "$TMP/err" || fail "without a key: where keys come from is not said"
pass "$1: without a key: fails naming the file and the recipient"

preview text "SOPS_AGE_KEY=$OTHER"
[ $rc -eq 1 ] || fail "with another key: exit $rc, want 1"
grep -q "$OTHER_PUB" "$TMP/out" "$TMP/err" || fail "with another key: the key held is not named"
grep -q "$PUB" "$TMP/out" "$TMP/err" || fail "with another key: the recipient is not named"
if grep -q "AGE-SECRET-KEY" "$TMP/out" "$TMP/err"; then fail "a private key is in the output"; fi
pass "$1: with another key: fails naming the recipients tried, public keys only"
}
scenario plain
scenario kustomize
hg_cli_end "sops cli: all checks passed"
