#!/usr/bin/env bash
# The real `helmgate preview` over a small repository shaped like the seed's own history
# (fluxcd/helm-operator-get-started): FluxHelmRelease v1alpha2 -> flux.weave.works/v1beta1 HelmRelease ->
# helm.fluxcd.io/v1, with value changes in between. Before issue 11 the value changes said "No release is
# affected by this change" (exit 0) and a migration showed its release as added. Now: each value change is
# a changed release whose render diff shows the new image (exit 2), each migration is the same release
# changed (never added or removed), and a HelmRelease of an apiVersion helmgate does not read is a note
# naming its file, line and apiVersion.
set -euo pipefail

. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin legacy-cli helm kubectl
hg_corpus helm-operator-get-started
SEED=$CORPUS
[ -d "$SEED/charts/podinfo" ] || { echo "FAIL: corpus not found under $SEED"; exit 1; }

export GIT_AUTHOR_NAME=helmgate-test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=helmgate-test GIT_COMMITTER_EMAIL=test@example.com
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
REPO=$TMP/repo
mkdir -p "$REPO/releases/dev" "$REPO/releases/test"
cp -r "$SEED/charts" "$SEED/namespaces" "$REPO/"
git -C "$REPO" init -q -b master
commit() { git -C "$REPO" add -A && git -C "$REPO" -c commit.gpgsign=false commit -q -m "$1" && git -C "$REPO" rev-parse HEAD; }

# dev_release <apiVersion line + kind line + chart lines> <tag>
fhr() {
  cat >"$REPO/releases/dev/podinfo.yaml" <<EOF
---
apiVersion: helm.integrations.flux.weave.works/v1alpha2
kind: FluxHelmRelease
metadata:
  name: podinfo-dev
  namespace: dev
  annotations:
    flux.weave.works/automated: "true"
    flux.weave.works/tag.chart-image: glob:dev-*
spec:
  chartGitPath: podinfo
  releaseName: podinfo-dev
  values:
    image:
      repository: stefanprodan/podinfo
      tag: $1
    replicaCount: 1
EOF
}
hr() {
  cat >"$REPO/releases/dev/podinfo.yaml" <<EOF
---
apiVersion: $1
kind: HelmRelease
metadata:
  name: podinfo-dev
  namespace: dev
  annotations:
    fluxcd.io/automated: "true"
spec:
  releaseName: podinfo-dev
  chart:
    git: git@github.com:stefanprodan/gitops-helm
    path: charts/podinfo
    ref: master
  values:
    image:
      repository: stefanprodan/podinfo
      tag: $2
    replicaCount: 1
EOF
}
# The seed's first generation, never read: a note.
cat >"$REPO/releases/test/backend.yaml" <<'EOF'
---
apiVersion: helm.integrations.flux.weave.works/v1alpha
kind: FluxHelmRelease
metadata:
  name: backend
  namespace: test
spec:
  chartGitPath: podinfo
  values:
    - name: image
      value: stefanprodan/podinfo:0.1
EOF

fhr dev-kb9lm91e
C0=$(commit "FluxHelmRelease v1alpha2")
fhr dev-2aywpdbq
C1=$(commit "Auto-release stefanprodan/podinfo:dev-2aywpdbq")
hr flux.weave.works/v1beta1 dev-2aywpdbq
C2=$(commit "Update Flux Helm Operator CRD to v1beta1")
hr flux.weave.works/v1beta1 dev-hdtwcel9
C3=$(commit "Auto-release stefanprodan/podinfo:dev-hdtwcel9")
hr helm.fluxcd.io/v1 dev-hdtwcel9
C4=$(commit "Update HelmRelease manifests to helm.fluxcd.io/v1")

export HELMGATE_CACHE_DIR=$TMP/cache
run() {
  set +e
  OUT=$(cd "$REPO" && "$BIN" preview --format json "$@" 2>"$TMP/stderr")
  RC=$?
  set -e
  printf '%s' "$OUT" >"$TMP/report.json"
}
# jq-free checks: the python program comes on stdin (a heredoc) and reads the JSON report from the file.
check() { python3 - "$TMP/report.json"; }

# A value change in a FluxHelmRelease: the release changed, its Deployment shows the new image.
run --base "$C0" --head "$C1"
if [ "$RC" = 2 ] && check <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
[rel] = r["releases"]
assert (rel["namespace"], rel["name"], rel["status"]) == ("dev", "podinfo-dev", "changed"), rel
assert rel["summary"]["changed"] >= 1, rel["summary"]
dep = [x for x in rel["resources"] if x["kind"] == "Deployment"]
assert dep and "dev-2aywpdbq" in json.dumps(dep), dep
PY
then pass "FluxHelmRelease value change is a changed release (exit 2)"; else fail "FluxHelmRelease value change: rc=$RC $OUT $(cat "$TMP/stderr")"; fi

# The unknown generation is a note with file, line and apiVersion (every preview says it).
if check <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
notes = [n for n in r["notes"] if 'apiVersion "helm.integrations.flux.weave.works/v1alpha"' in n["message"]]
assert len(notes) == 1, r["notes"]
n = notes[0]
assert n["file"] == "releases/test/backend.yaml" and n["line"] == 2, n
assert "FluxHelmRelease" in n["message"] and "not in this preview" in n["message"], n
PY
then pass "unknown apiVersion is a note with file:line"; else fail "unknown apiVersion note: $OUT"; fi

# Migrations: the same release changed, never added or removed.
for pair in "$C1 $C2 FluxHelmRelease helm.integrations.flux.weave.works/v1alpha2 HelmRelease flux.weave.works/v1beta1" \
            "$C3 $C4 HelmRelease flux.weave.works/v1beta1 HelmRelease helm.fluxcd.io/v1"; do
  set -- $pair
  run --base "$1" --head "$2"
  want="migrated from $3 $4 to $5 $6"
  if [ "$RC" != 1 ] && WANT="$want" check <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
[rel] = r["releases"]
assert rel["status"] not in ("added", "removed", "error"), rel
assert os.environ["WANT"] in rel["reasons"], rel["reasons"]
assert not r["errors"], r["errors"]
PY
  then pass "migration $4 -> $6 is one release changed"; else fail "migration $4 -> $6: rc=$RC $OUT $(cat "$TMP/stderr")"; fi
done

# A value change in a flux.weave.works/v1beta1 HelmRelease.
run --base "$C2" --head "$C3"
if [ "$RC" = 2 ] && check <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
[rel] = r["releases"]
assert rel["status"] == "changed" and "dev-hdtwcel9" in json.dumps(rel["resources"]), rel
PY
then pass "v1beta1 value change is a changed release (exit 2)"; else fail "v1beta1 value change: rc=$RC $OUT"; fi

# The whole history at once: FluxHelmRelease at base, helm.fluxcd.io/v1 at head.
run --base "$C0" --head "$C4"
if [ "$RC" = 2 ] && check <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
[rel] = r["releases"]
assert rel["status"] == "changed", rel
PY
then pass "FluxHelmRelease -> helm.fluxcd.io/v1 with a new image is one release changed"; else fail "C0..C4: rc=$RC $OUT"; fi

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
