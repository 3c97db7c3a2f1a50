#!/usr/bin/env bash
# `helmgate preview --config F` as a local user runs it: a configuration that names only the repository
# and its clusters (no forges, no webhook secrets, no tokens) is accepted, and an ssh URL in a report
# shows its user name `git` (not a credential) while a password in a URL stays masked (issue 11, item 7).
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin outcomes-cli helm kubectl
hg_git_identity
REPO=$TMP/repo
mkdir -p "$REPO/charts/app/templates" "$REPO/deploy/dev"
printf 'apiVersion: v2\nname: app\nversion: 0.1.0\n' >"$REPO/charts/app/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  msg: {{ .Values.msg | quote }}\n' \
  >"$REPO/charts/app/templates/cm.yaml"
release() {
  printf 'apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: ./charts/app\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n  values:\n    msg: %s\n' "$1"
}
release one >"$REPO/deploy/dev/app.yaml"
# A tenant repository over ssh (not reachable here): the report names it in a note.
cat >"$REPO/deploy/dev/tenant.yaml" <<'YAML'
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: tenant
  namespace: flux-system
spec:
  url: ssh://git@git.example.invalid/org/tenant.git
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenant
  namespace: flux-system
spec:
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: tenant
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: other
  namespace: flux-system
spec:
  url: ssh://git:hunter2-do-not-print@git.example.invalid/org/other.git
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: other
  namespace: flux-system
spec:
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: other
YAML
git -C "$REPO" init -q -b main
git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -qm base
BASE=$(git -C "$REPO" rev-parse HEAD)
release two >"$REPO/deploy/dev/app.yaml"
git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -qm head
HEAD=$(git -C "$REPO" rev-parse HEAD)

# Only the repository and its clusters: no forges, no repos[].name/forge, no secrets in the environment.
cat >"$TMP/local.yaml" <<YAML
repos:
  - url: https://git.example.com/org/fleet.git
    clusters:
      - name: dev
        paths: [deploy/dev]
YAML
export HELMGATE_CACHE_DIR=$TMP/cache
set +e
OUT=$(cd "$REPO" && env -u GITHUB_WEBHOOK_SECRET -u GITEA_WEBHOOK_SECRET -u HELMGATE_API_TOKEN \
      "$BIN" preview --no-sandbox --config "$TMP/local.yaml" --base "$BASE" --head "$HEAD" --format text 2>"$TMP/err")
RC=$?
set -e
ERR=$(cat "$TMP/err")
[ "$RC" = 2 ] && pass "preview --config without forge settings runs (exit 2: a change)" \
  || { fail "preview --config without forges: rc=$RC"; echo "$ERR"; echo "$OUT" | head -30; }
grep -q "== dev apps/app (changed" <<<"$OUT" && pass "the configured cluster path is used" || fail "release not shown: $OUT"
grep -q "ssh://git@git.example.invalid/org/tenant.git" <<<"$OUT" && pass "ssh user git shown unmasked" \
  || { fail "ssh URL not shown with its user"; grep -i "tenant" <<<"$OUT" || true; }
if grep -q "hunter2-do-not-print" <<<"$OUT$ERR"; then fail "a password in an ssh URL was printed"; else pass "password in an ssh URL not printed"; fi
grep -q "ssh://\*\*\*@git.example.invalid/org/other.git" <<<"$OUT" && pass "ssh URL with a password masked" \
  || fail "ssh URL with a password not shown masked"

# The same file for serve still demands the forge settings.
set +e
SERVE_ERR=$(timeout 10 "$BIN" serve --config "$TMP/local.yaml" 2>&1 >/dev/null)
set -e
grep -q "repos\[0\].name" <<<"$SERVE_ERR" && pass "serve still requires repos[].name/forge" || fail "serve: $SERVE_ERR"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all outcomes CLI checks passed"
