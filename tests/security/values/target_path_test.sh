#!/usr/bin/env bash
# A hostile valuesFrom.targetPath (`leak[x]` used to throw std::stol out of the worker and leave the commit
# statuses pending; `a[99999999999]`, `a..b`) is refused by the real `helmgate preview` with a finding that
# names the file and line of the targetPath, and the other releases of the change are still rendered.
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"
: "${HELMGATE_SOURCE_DIR:?run through ctest (needs HELMGATE_SOURCE_DIR)}"
hg_cli_begin sec-targetpath helm kubectl
hg_git_identity
REPO=$TMP/repo
mkdir -p "$REPO/charts" "$REPO/clusters/dev"
cp -r "$HELMGATE_SOURCE_DIR/tests/unit/values/charts/values-echo" "$REPO/charts/echo"
git -C "$REPO" init -q -b main
echo "# fleet" > "$REPO/README.md"
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n' > "$REPO/clusters/dev/namespace.yaml"
git -C "$REPO" add -A && git -C "$REPO" commit -qm base

release() {  # name targetPath
  cat <<YAML
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: $1
  namespace: apps
spec:
  chart:
    spec:
      chart: ./charts/echo
      sourceRef:
        kind: GitRepository
        name: flux-system
  valuesFrom:
    - kind: ConfigMap
      name: paths
      valuesKey: tag
      targetPath: $2
YAML
}
{
  cat <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: paths
  namespace: apps
data:
  tag: "1.10"
YAML
  release good 'image.tag'
  release leak 'leak[x]'
  release huge 'a[99999999999]'
  release empty 'a..b'
  # An alias bomb in a values Secret (10^9 leaves from a few hundred bytes): refused at the node limit.
  cat <<'YAML'
---
apiVersion: v1
kind: Secret
metadata:
  name: bomb
  namespace: apps
stringData:
  values.yaml: |
    a: &a [x, x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bombed
  namespace: apps
spec:
  chart:
    spec:
      chart: ./charts/echo
      sourceRef:
        kind: GitRepository
        name: flux-system
  valuesFrom:
    - kind: Secret
      name: bomb
YAML
} > "$REPO/clusters/dev/release.yaml"
git -C "$REPO" add -A && git -C "$REPO" commit -qm "hostile targetPath"

set +e
start=$(date +%s)
(cd "$REPO" && HELMGATE_CACHE_DIR=$TMP/cache timeout 120 "$BIN" preview --base HEAD~1 --head HEAD --format text) >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 60 ] && pass "preview finished in ${elapsed}s" || fail "preview took ${elapsed}s"
cat "$TMP/out" "$TMP/err" | head -80
[ "$rc" -eq 1 ] && pass "exit 1 (errors), no crash" || fail "exit code $rc, want 1 (a crash is >= 128)"
line_of() { grep -n "targetPath: $1\$" "$REPO/clusters/dev/release.yaml" | cut -d: -f1; }
for p in 'leak\[x\]' 'a\[99999999999\]' 'a\.\.b'; do
  n=$(line_of "$p")
  shown=$(printf '%s' "$p" | sed 's/\\//g')
  if grep -F "clusters/dev/release.yaml:$n" "$TMP/out" | grep -qF "targetPath '$shown'"; then
    pass "targetPath '$shown' refused at clusters/dev/release.yaml:$n"
  else
    fail "no finding for targetPath '$shown' at clusters/dev/release.yaml:$n"
  fi
done
grep -q 'apps/bombed' "$TMP/out" && grep -q 'valuesFrom Secret apps/bomb.* cannot be read as values: .*\(nodes after expanding aliases\|YAML alias expansion exceeds\)' "$TMP/out" \
  && pass "the alias bomb in a values Secret is a finding" || fail "no finding for the alias bomb"
grep -q 'nginx:1.10' "$TMP/out" && pass "the good release still renders (image nginx:1.10)" || fail "the good release did not render"
grep -qi 'stol\|terminate\|exception' "$TMP/out" "$TMP/err" && fail "an exception reached the output" || pass "no exception text"
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
