#!/usr/bin/env bash
# The caches across processes, end to end with the real `helmgate preview` binary (issue 15): on the
# flux2-kustomize-helm-example corpus (Flux Kustomizations, kustomize overlays, podinfo from a local HTTP
# chart repository), a second process reuses the first one's discovery (every cluster from disk), pulls
# no chart and does not run `helm version`; a change that touches one cluster discovers only that one
# again; and every report is byte-identical to the one made with the discovery cache off.
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"

: "${HELMGATE_BINARY_DIR:?run through ctest (needs HELMGATE_BINARY_DIR)}"
: "${HELMGATE_SOURCE_DIR:?run through ctest (needs HELMGATE_SOURCE_DIR)}"
HELM=${HELMGATE_HELM:?HELMGATE_HELM is not set: run scripts/testenv env, or export it (scripts/lib/common.sh ensure_helm_kubectl)}
: "${HELMGATE_KUBECTL:?HELMGATE_KUBECTL is not set: run scripts/testenv env, or export it}"
BIN=$HELMGATE_BINARY_DIR/helmgate
SHARED=${HELMGATE_SHARED_DIR:-$(cd "$HELMGATE_SOURCE_DIR/.." && pwd)/shared}
CORPUS=$SHARED/corpora
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
[ -d "$CORPUS/flux2-kustomize-helm-example" ] || { echo "FAIL: corpus not found under $CORPUS"; exit 1; }

TMP=$(mktemp -d /tmp/hg-preview-cache.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

failures=0

# --- a local HTTP chart repository holding the corpus podinfo chart
hg_chart_repo "$CORPUS/charts/podinfo-6.14.1"

# --- the repository: the corpus at base; head changes the staging values only
REPO=$TMP/repo
mkdir -p "$REPO"
cp -r "$CORPUS/flux2-kustomize-helm-example/"{apps,clusters,infrastructure} "$REPO/"
sed -i "s#https://stefanprodan.github.io/podinfo#$CHART_URL#" "$REPO/apps/base/podinfo/repository.yaml"
# podinfo pinned to the chart served here (an exact version is pulled once and kept on disk)
sed -i 's#version: ">=.*"#version: "6.14.1"#; s#version: .*6\.x.*#version: "6.14.1"#' "$REPO"/apps/*/podinfo*.yaml
git -C "$REPO" init -q -b main
commit() {
  git -C "$REPO" add -A && git -C "$REPO" -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false \
    commit -q -m "$1" && git -C "$REPO" rev-parse HEAD
}
BASE=$(commit corpus)
sed -i "s#podinfo.staging#podinfo.staging.example.org#" "$REPO/apps/staging/podinfo-values.yaml"
HEAD=$(commit "staging hostname")
echo "more" >>"$REPO/README.md"
NOOP=$(commit "readme")

printf 'egress:\n  allow: ["%s/"]\n' "$CHART_URL" >"$TMP/helmgate.yaml"
export HELMGATE_REDACTION_KEY=helmgate-test-key
# preview <cache dir> <head> <name>: the report in $TMP/<name>.json, the --stats line in $TMP/<name>.stats
preview() {
  local rc=0
  HELMGATE_CACHE_DIR=$1 "$BIN" preview --repo "$REPO" --config "$TMP/helmgate.yaml" --base "$BASE" --head "$2" \
    --format json --stats >"$TMP/$3.json" 2>"$TMP/$3.err" || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then fail "$3: exit $rc: $(cat "$TMP/$3.err")"; fi
  grep -o 'releases=.*' "$TMP/$3.err" >"$TMP/$3.stats" || fail "$3: no --stats line: $(cat "$TMP/$3.err")"
  grep -v 'releases=' "$TMP/$3.err" | grep -q . && fail "$3: unexpected stderr: $(cat "$TMP/$3.err")" || true
}
stat_of() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$TMP/$1.stats"; }
expect() {  # expect <name> <field> <op> <value>
  local v
  v=$(stat_of "$1" "$2")
  if [ -n "$v" ] && [ "$v" "$3" "$4" ]; then pass "$1: $2=$v ($3 $4)"; else fail "$1: $2=${v:-?}, expected $3 $4 ($(cat "$TMP/$1.stats"))"; fi
}
same() {  # same <name> <reference>
  if cmp -s "$TMP/$1.json" "$TMP/$2.json"; then pass "$1: report byte-identical to $2"; else
    fail "$1: report differs from $2"; diff <(python3 -m json.tool "$TMP/$2.json") <(python3 -m json.tool "$TMP/$1.json") | head -30
  fi
}

# --- references: the discovery cache off (every cluster discovered at base and at head)
HELMGATE_DISCOVERY_CACHE=off preview "$TMP/cache-ref" "$HEAD" ref
expect ref discovery_hits -eq 0
expect ref discovery_misses -eq 0
HELMGATE_DISCOVERY_CACHE=off preview "$TMP/cache-ref" "$NOOP" ref-noop
grep -q '"staging"' "$TMP/ref.json" && grep -q 'podinfo.staging.example.org' "$TMP/ref.json" \
  && pass "the reference report shows the change" || fail "the reference report lacks the change: $(head -c 600 "$TMP/ref.json")"

# --- first process, empty cache: base discovered, head only where the change reaches
CACHE=$TMP/cache
preview "$CACHE" "$HEAD" cold
same cold ref
# base and head at once, opposite ways: staging at both sides, production at one side and usually taken
# from the cache by the other (both discover it when they reach it at the same moment)
expect cold discovery_misses -ge 3
expect cold discovery_misses -le 4
[ $(( $(stat_of cold discovery_misses) + $(stat_of cold discovery_hits) )) = 4 ] && pass "cold: 4 cluster lookups" \
  || fail "cold: expected 4 cluster lookups: $(cat "$TMP/cold.stats")"
expect cold discovery_disk_reads -eq 0
expect cold charts_pulled -ge 1
expect cold helm_version_runs -eq 1
expect cold renders -ge 2

# --- second process, same change: everything from disk
preview "$CACHE" "$HEAD" warm
same warm ref
expect warm discovery_misses -eq 0
expect warm discovery_hits -eq 4
expect warm discovery_disk_reads -ge 2
expect warm charts_pulled -eq 0
expect warm helm_version_runs -eq 0
expect warm renders -eq 0

# --- a third process, nothing changed for any cluster (a README edit): no discovery, no render
preview "$CACHE" "$NOOP" noop
same noop ref-noop
expect noop discovery_misses -eq 0
expect noop renders -eq 0
expect noop helm_version_runs -eq 0

# --- the cache directory: owner-only entries, and nothing but ours
bad=$(find "$CACHE/discovery" -type f -perm /077 | head -3)
[ -z "$bad" ] && pass "discovery entries are owner-only" || fail "entries readable by others: $bad"
n=$(find "$CACHE/discovery" -name '*.entry' | wc -l)
[ "$n" -ge 2 ] && pass "$n discovery entries on disk" || fail "expected discovery entries on disk, found $n"
[ -z "$(find "$CACHE/discovery" -name '.tmp-*')" ] && pass "no temporary files left" || fail "temporary files left"

# --- a corrupt entry: ignored with a warning on stderr, the report unchanged
for f in $(find "$CACHE/discovery" -name '*.entry'); do printf '{"format":"nope"}\n{}\n' >"$f"; done
rc=0
HELMGATE_CACHE_DIR=$CACHE "$BIN" preview --repo "$REPO" --config "$TMP/helmgate.yaml" --base "$BASE" --head "$HEAD" \
  --format json >"$TMP/corrupt.json" 2>"$TMP/corrupt.err" || rc=$?
[ "$rc" = 2 ] || fail "corrupt: exit $rc"
same corrupt ref
grep -q "discovery cache: ignoring" "$TMP/corrupt.err" && pass "a corrupt entry is named on stderr" \
  || fail "no warning for a corrupt entry: $(cat "$TMP/corrupt.err")"

if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
