#!/usr/bin/env bash
# Runs the real `helmgate preview` binary on a Git repository built from the flux2-kustomize-helm-example
# corpus, with podinfo served from a local HTTP chart repository (helm package + helm repo index):
# --help, exit codes, the JSON schema, markdown splitting, invalid YAML with file:line, a Secret canary
# that must never be printed, a chart version bump, a removed release, and the markdown/JSON reports
# against golden files.
#
# Golden files: tests/unit/preview/golden/. Regenerate them after an intended report change with
#   HELMGATE_UPDATE_GOLDEN=1 ctest -R preview_cli      (then review `git diff tests/unit/preview/golden`)
# Commit ids are deterministic (fixed author, dates and content) and the redaction key is fixed; the
# chart server's port is replaced by PORT.
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"

: "${HELMGATE_BINARY_DIR:?run through ctest (needs HELMGATE_BINARY_DIR)}"
: "${HELMGATE_SOURCE_DIR:?run through ctest (needs HELMGATE_SOURCE_DIR)}"
HELM=${HELMGATE_HELM:?HELMGATE_HELM is not set: run scripts/testenv env, or export it (scripts/lib/common.sh ensure_helm_kubectl)}
: "${HELMGATE_KUBECTL:?HELMGATE_KUBECTL is not set: run scripts/testenv env, or export it}"
BIN=$HELMGATE_BINARY_DIR/helmgate
SHARED=${HELMGATE_SHARED_DIR:-$(cd "$HELMGATE_SOURCE_DIR/.." && pwd)/shared}
CORPUS=$SHARED/corpora
GOLDEN=$HELMGATE_SOURCE_DIR/tests/unit/preview/golden
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
[ -d "$CORPUS/flux2-kustomize-helm-example" ] || { echo "FAIL: corpus not found under $CORPUS"; exit 1; }

TMP=$(mktemp -d /tmp/hg-preview-cli.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

failures=0

# --- a local HTTP chart repository holding the corpus podinfo chart
hg_chart_repo "$CORPUS/charts/podinfo-6.14.1" "$CORPUS/charts/_versions/podinfo-6.14.0"  # 6.14.0 for the version bump

# --- the repository, with the podinfo HelmRepository pointing at the local chart server
export GIT_AUTHOR_NAME=helmgate-test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=helmgate-test GIT_COMMITTER_EMAIL=test@example.com
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
REPO=$TMP/repo
mkdir -p "$REPO"
cp -r "$CORPUS/flux2-kustomize-helm-example/"{apps,clusters,infrastructure} "$REPO/"
sed -i "s#https://stefanprodan.github.io/podinfo#$CHART_URL#" "$REPO/apps/base/podinfo/repository.yaml"
git -C "$REPO" init -q -b main
commit() {
  git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -q -m "$1" && git -C "$REPO" rev-parse HEAD
}
BASE=$(commit corpus)

export HELMGATE_CACHE_DIR=$TMP/cache HELMGATE_REDACTION_KEY=helmgate-test-key
# The chart server is on loopback over plain http: the egress policy refuses it unless the configuration
# names it (tests/security/egress checks the refusal).
printf 'egress:\n  allow: ["%s/"]\n' "$CHART_URL" >"$TMP/helmgate.yaml"
preview() { (cd "$REPO" && "$BIN" preview --config "$TMP/helmgate.yaml" "$@"); }
# Runs preview, keeps stdout in $OUT and the exit status in $RC (set -e must not stop at exit 2).
run() { set +e; OUT=$(preview "$@" 2>"$TMP/stderr"); RC=$?; set -e; ERR=$(cat "$TMP/stderr"); }

# Replaces what changes from run to run (commit ids depend on the chart server's port) before comparing.
normalize() {
  local base=$1 head=$2
  sed -e "s#$CHART_URL#http://127.0.0.1:PORT#g" -e "s#$base#BASE_COMMIT#g" -e "s#${base:0:12}#BASE#g" \
      -e "s#$head#HEAD_COMMIT#g" -e "s#${head:0:12}#HEAD#g"
}
golden() {
  local name=$1 actual=$2
  if [ "${HELMGATE_UPDATE_GOLDEN:-}" = 1 ]; then
    printf '%s\n' "$actual" >"$GOLDEN/$name"
    echo "updated: $GOLDEN/$name"
  elif diff -u "$GOLDEN/$name" <(printf '%s\n' "$actual") >"$TMP/golden.diff"; then
    pass "golden $name"
  else
    fail "golden $name differs (HELMGATE_UPDATE_GOLDEN=1 to regenerate after an intended change):"
    head -60 "$TMP/golden.diff"
  fi
}

# --- --help and usage errors
run --help
[ "$RC" = 0 ] && grep -q "usage: helmgate preview" <<<"$OUT" && grep -q -- "--max-comment-bytes" <<<"$OUT" \
  && pass "--help" || fail "--help: rc=$RC"
run --bogus
[ "$RC" = 1 ] && grep -q "unknown option '--bogus'" <<<"$ERR" && pass "unknown option is exit 1" || fail "unknown option: rc=$RC $ERR"
run --format yaml
[ "$RC" = 1 ] && grep -q "format must be markdown, text or json" <<<"$ERR" && pass "bad --format" || fail "bad --format: rc=$RC"
run --repo "$TMP/missing" --base HEAD
[ "$RC" = 1 ] && [ -n "$ERR" ] && pass "missing repository is exit 1 with a message" || fail "missing repo: rc=$RC"

# --- no change: exit 0
run --base "$BASE" --head "$BASE" --format json
[ "$RC" = 0 ] && pass "no change is exit 0" || fail "no change: rc=$RC $ERR"

# --- a values change in the staging overlay: exit 2, only staging/podinfo, golden markdown and JSON
sed -i "s#podinfo.staging#podinfo.staging.example.org#" "$REPO/apps/staging/podinfo-values.yaml"
HEAD1=$(commit "staging hostname")
run --base "$BASE" --head "$HEAD1" --format markdown
[ "$RC" = 2 ] && pass "a change is exit 2" || fail "change: rc=$RC $ERR"
grep -q "podinfo.staging.example.org" <<<"$OUT" && pass "markdown shows the new hostname" || fail "markdown lacks the change"
golden staging-values.md "$(normalize "$BASE" "$HEAD1" <<<"$OUT")"
run --base "$BASE" --head "$HEAD1" --format json
[ "$RC" = 2 ] || fail "json change: rc=$RC"
golden staging-values.json "$(normalize "$BASE" "$HEAD1" <<<"$OUT" | python3 -m json.tool --indent 2)"
cat >"$TMP/schema.py" <<'PY'
import json, sys
r = json.load(sys.stdin)
assert r["schema"] == "helmgate.preview/v1", r["schema"]
for k in ("repo", "base", "head", "clusters", "has_changes", "has_errors", "unaffected", "errors", "notes", "releases"):
    assert k in r, k
assert r["base"] == sys.argv[1] and r["head"] == sys.argv[2]
assert r["has_changes"] is True and r["has_errors"] is False
assert sorted(r["clusters"]) == ["production", "staging"], r["clusters"]
assert r["unaffected"] == 5, r["unaffected"]
[rel] = r["releases"]
for k in ("cluster", "namespace", "name", "release_name", "target_namespace", "chart", "status", "reasons", "notes",
          "summary", "errors", "resources"):
    assert k in rel, k
assert (rel["cluster"], rel["namespace"], rel["name"], rel["status"]) == ("staging", "podinfo", "podinfo", "changed")
assert rel["summary"] == {"added": 0, "changed": 1, "removed": 0}, rel["summary"]
[res] = rel["resources"]
assert res["kind"] == "HTTPRoute" and res["name"] == "podinfo", res["key"]
assert res["change"] == "changed" and "podinfo.staging.example.org" in res["diff"], res["diff"]
PY
python3 "$TMP/schema.py" "$BASE" "$HEAD1" <<<"$OUT" && pass "json schema" || fail "json schema"
run --base "$BASE" --head "$HEAD1" --format text
[ "$RC" = 2 ] && grep -q "== staging podinfo/podinfo (changed" <<<"$OUT" && ! grep -q $'\033' <<<"$OUT" \
  && pass "text format (no colour when not a terminal)" || fail "text format: rc=$RC"
run --base "$BASE" --head "$HEAD1" --cluster production
[ "$RC" = 0 ] && pass "--cluster production sees no change" || fail "--cluster production: rc=$RC"
run --base "$BASE" --head "$HEAD1" --cluster nowhere
[ "$RC" = 1 ] && grep -q "no cluster named nowhere (known: production, staging)" <<<"$ERR" && pass "unknown cluster" \
  || fail "unknown cluster: rc=$RC $ERR"

# --- a change in the base release touches both clusters; markdown split at a small limit
sed -i 's#^    redis:#    replicaCount: 3\n    redis:#' "$REPO/apps/base/podinfo/release.yaml"
HEAD2=$(commit "replicas")
run --base "$HEAD1" --head "$HEAD2" --format markdown --max-comment-bytes 1500
[ "$RC" = 2 ] || fail "split: rc=$RC $ERR"
cat >"$TMP/split.py" <<'PY'
import sys
text = sys.stdin.read()
parts = text.split("\n<!-- helmgate: next comment -->\n\n")
limit = int(sys.argv[1])
assert len(parts) >= 2, f"{len(parts)} part(s)"
for i, p in enumerate(parts):
    assert len(p.encode()) <= limit, f"part {i + 1} has {len(p.encode())} bytes"
    assert p.count("<details") == p.count("</details>"), f"part {i + 1}: unbalanced <details>"
    fences = [l for l in p.splitlines() if l.startswith("```")]
    assert len(fences) % 2 == 0, f"part {i + 1}: unbalanced fences"
    assert p.startswith(f"*helmgate preview, part {i + 1} of {len(parts)}*"), p[:60]
assert "staging" in text and "production" in text
PY
python3 "$TMP/split.py" 1500 <<<"$OUT" && pass "markdown split into parts within the limit, fences and details balanced" \
  || fail "markdown split"

# --- a Secret canary through valuesFrom: shown as changed, never printed in any format
CANARY=hg-canary-7f3e-do-not-print
cat >"$REPO/apps/base/podinfo/secret.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: podinfo-secret
  namespace: podinfo
stringData:
  values.yaml: |
    ui:
      message: first-message
YAML
sed -i 's#  - release.yaml#  - release.yaml\n  - secret.yaml#' "$REPO/apps/base/podinfo/kustomization.yaml"
sed -i 's#^  values:#  valuesFrom:\n    - kind: Secret\n      name: podinfo-secret\n  values:#' "$REPO/apps/base/podinfo/release.yaml"
HEAD3=$(commit "valuesFrom secret")
sed -i "s#first-message#$CANARY#" "$REPO/apps/base/podinfo/secret.yaml"
HEAD4=$(commit "secret value")
for fmt in markdown text json; do
  run --base "$HEAD3" --head "$HEAD4" --format "$fmt"
  [ "$RC" = 2 ] || fail "secret change ($fmt): rc=$RC $ERR"
  if grep -q "$CANARY" <<<"$OUT$ERR" || grep -q "$(printf %s "$CANARY" | base64)" <<<"$OUT$ERR"; then
    fail "the Secret canary was printed ($fmt)"
  else
    pass "Secret canary not printed ($fmt)"
  fi
  grep -q "redacted" <<<"$OUT" && pass "redaction marker shown ($fmt)" || fail "no redaction marker ($fmt)"
done
run --base "$HEAD3" --head "$HEAD4" --format markdown
golden secret-values.md "$(normalize "$HEAD3" "$HEAD4" <<<"$OUT")"
run --base "$HEAD3" --head "$HEAD4" --format json
grep -q 'valuesFrom Secret podinfo/podinfo-secret\[values.yaml\] changed' <<<"$OUT" && pass "reason names the Secret" \
  || fail "reason lacks the valuesFrom Secret"

# --- invalid YAML: exit 1, file:line in the report, the release is not shown as removed
printf 'apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: [podinfo\n' \
  >"$REPO/apps/staging/podinfo-values.yaml"
HEAD5=$(commit "broken yaml")
run --base "$HEAD4" --head "$HEAD5" --format markdown
[ "$RC" = 1 ] && pass "invalid YAML is exit 1" || fail "invalid YAML: rc=$RC"
grep -Eq "apps/staging/podinfo-values.yaml:[0-9]+(:[0-9]+)?: .*invalid YAML" <<<"$OUT" && pass "invalid YAML with file:line" \
  || { fail "invalid YAML without file:line"; echo "$OUT" | head -20; }
if grep -q "| removed |" <<<"$OUT" || grep -q '^\*\*removed\*\*' <<<"$OUT"; then
  fail "broken release or its resources shown as removed"
else
  pass "release and its resources not reported as removed"
fi
run --base "$HEAD4" --head "$HEAD5" --format json
python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["has_errors"]; assert any(e["file"]=="apps/staging/podinfo-values.yaml" and e["line"]>0 for e in r["errors"]), r["errors"]' <<<"$OUT" \
  && pass "json error has file and line" || fail "json error lacks file/line"

# --- a chart version bump (6.14.0 -> 6.14.1 from the chart repository) in the production overlay (which,
# like staging's, sets spec.chart.spec.version over the base): only production, image tag in the diff
git -C "$REPO" show "$HEAD4:apps/staging/podinfo-values.yaml" >"$REPO/apps/staging/podinfo-values.yaml"
sed -i 's#version: ">=1.0.0"#version: "6.14.0"#' "$REPO/apps/production/podinfo-values.yaml"
grep -q 'version: "6.14.0"' "$REPO/apps/production/podinfo-values.yaml" || fail "could not pin the chart version"
HEAD6=$(commit "pin podinfo 6.14.0 in production")
sed -i 's#version: "6.14.0"#version: "6.14.1"#' "$REPO/apps/production/podinfo-values.yaml"
HEAD7=$(commit "bump podinfo to 6.14.1 in production")
run --base "$HEAD6" --head "$HEAD7" --format json
[ "$RC" = 2 ] || fail "version bump: rc=$RC $ERR"
cat >"$TMP/bump.py" <<'PY'
import json, sys
r = json.load(sys.stdin)
rels = {(x["cluster"], x["name"]): x for x in r["releases"]}
assert set(rels) == {("production", "podinfo")}, sorted(rels)
rel = rels[("production", "podinfo")]
assert rel["status"] == "changed", rel["status"]
assert any("version" in reason for reason in rel["reasons"]), rel["reasons"]
diffs = "".join(res.get("diff", "") for res in rel["resources"])
assert "6.14.0" in diffs and "6.14.1" in diffs, "the diff does not show the version change"
PY
python3 "$TMP/bump.py" <<<"$OUT" && pass "chart version bump: only production, reason and image tag in the diff" \
  || { fail "chart version bump"; head -c 1500 <<<"$OUT"; }

# --- a release removed from a cluster: shown as removed with its resources
sed -i '/- ..\/base\/podinfo/d; /^patches:/,$d' "$REPO/apps/staging/kustomization.yaml"
printf 'resources: []\n' >>"$REPO/apps/staging/kustomization.yaml"
HEAD8=$(commit "remove podinfo from staging")
run --base "$HEAD7" --head "$HEAD8" --format json
[ "$RC" = 2 ] || fail "release removed: rc=$RC $ERR"
python3 -c '
import json, sys
r = json.load(sys.stdin)
[rel] = r["releases"]
assert (rel["cluster"], rel["name"], rel["status"]) == ("staging", "podinfo", "removed"), (rel["cluster"], rel["status"])
assert rel["summary"]["removed"] >= 3 and rel["summary"]["added"] == 0, rel["summary"]
' <<<"$OUT" && pass "release removed from staging: removed with its resources" || fail "release removed: $(head -c 600 <<<"$OUT")"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all preview CLI checks passed"
