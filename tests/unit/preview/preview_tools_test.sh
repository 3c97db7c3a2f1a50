#!/usr/bin/env bash
# What a new user meets right after scripts/bootstrap: helm and kubectl found without any variable or
# PATH entry (the pinned copies bootstrap unpacked), `helmgate version` naming them, and a relative
# HELMGATE_CACHE_DIR that works for charts kept in the repository (helm reads the chart path from
# another working directory, so the cache must be made absolute).
set -euo pipefail

. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin preview-tools
hg_corpus helm-operator-get-started

# No HELMGATE_HELM/HELMGATE_KUBECTL and a PATH without helm: the pinned copy must be found.
clean_env=(env -u HELMGATE_HELM -u HELMGATE_KUBECTL PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME")
if [ -n "${HELMGATE_CACHE:-}" ]; then clean_env+=(HELMGATE_CACHE="$HELMGATE_CACHE"); fi
out=$("${clean_env[@]}" "$BIN" version)
echo "$out"
if echo "$out" | grep -Eq '^helm: /.*/tools/kubectl-layer-[^/]+/bin/helm \(v4'; then
  pass "version names the pinned helm"
else
  fail "version does not name the pinned helm: $out"
fi
echo "$out" | grep -Eq '^kubectl: /.*kubectl \(' && pass "version names a kubectl" || fail "no kubectl in: $out"

# A repository whose chart lives in the repository, one value changed, rendered with a relative cache.
mkdir -p "$TMP/repo" "$TMP/work"
cp -r "$CORPUS/." "$TMP/repo/"
rm -rf "$TMP/repo/.git"
git -C "$TMP/repo" init -q
git -C "$TMP/repo" -c user.name=t -c user.email=t@example.com add -A
git -C "$TMP/repo" -c user.name=t -c user.email=t@example.com commit -qm base
sed -i 's/replicaCount: .*/replicaCount: 5/' "$TMP/repo/releases/dev/podinfo.yaml"
git -C "$TMP/repo" -c user.name=t -c user.email=t@example.com commit -qam head
set +e
(cd "$TMP/work" && "${clean_env[@]}" HELMGATE_CACHE_DIR=relcache "$BIN" preview --repo ../repo --base HEAD~1 \
  --head HEAD --format text >"$TMP/out.txt" 2>"$TMP/err.txt")
rc=$?
set -e
cat "$TMP/out.txt" "$TMP/err.txt"
[ "$rc" = 2 ] && pass "relative cache: exit 2 (changes)" || fail "relative cache: exit $rc, want 2"
grep -q '+  replicas: 5' "$TMP/out.txt" && pass "relative cache: the chart rendered" || fail "no rendered diff"
grep -q 'not found' "$TMP/out.txt" "$TMP/err.txt" && fail "a 'not found' error" || pass "no 'not found' error"
[ -d "$TMP/work/relcache/renders" ] && pass "cache under the working directory" || fail "no $TMP/work/relcache/renders"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
