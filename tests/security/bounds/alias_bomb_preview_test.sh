#!/usr/bin/env bash
# The YAML alias bomb ("billion laughs", under 1 KB) from a pull request, run through the real
# `helmgate preview` binary on a temporary Git repository:
#   * in a values Secret that a HelmRelease reads through valuesFrom (cluster a),
#   * in spec.values of a HelmRelease (cluster b),
#   * in a chart's Chart.yaml (cluster c),
# The preview must finish quickly, name the file (or the values Secret) and the limit, keep its peak
# memory small (< 300 MB; expanding the bomb takes gigabytes), and still render the releases the bombs
# do not touch.
set -euo pipefail

. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin alias-bomb helm kubectl
[ -x /usr/bin/time ] || { echo "FAIL: /usr/bin/time (Debian package 'time') is needed to measure peak memory"; exit 1; }
T=$TMP

# Nine levels of nine aliases: 9^9 = 387,420,489 scalars once expanded. $1: indentation.
laughs() {
  local in=$1 prev="" names="a b c d e f g h i"
  printf '%sa: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' "$in"
  prev=a
  for n in b c d e f g h i; do
    printf '%s%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n' "$in" "$n" "$n" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev" "$prev"
    prev=$n
  done
}
BOMB_SIZE=$(laughs "" | wc -c)
[ "$BOMB_SIZE" -lt 1024 ] || { echo "FAIL: the bomb is $BOMB_SIZE bytes, meant to be under 1 KB"; exit 1; }

export GIT_AUTHOR_NAME=helmgate-test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=helmgate-test GIT_COMMITTER_EMAIL=test@example.com
R=$T/repo
mkdir -p "$R"
git -C "$R" init -q -b main

# A tiny chart: one ConfigMap carrying .Values.message.
mkdir -p "$R/charts/app/templates" "$R/charts/bad/templates"
printf 'apiVersion: v2\nname: app\nversion: 0.1.0\n' >"$R/charts/app/Chart.yaml"
printf 'message: default\n' >"$R/charts/app/values.yaml"
cat >"$R/charts/app/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  message: {{ .Values.message | quote }}
EOF
cp "$R/charts/app/templates/cm.yaml" "$R/charts/bad/templates/cm.yaml"
printf 'apiVersion: v2\nname: bad\nversion: 0.1.0\n' >"$R/charts/bad/Chart.yaml"

release() {  # name, chart path, extra spec lines
  cat <<EOF
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: $1
  namespace: default
spec:
  chart:
    git: https://example.invalid/fleet.git
    path: $2
$3
EOF
}
mkdir -p "$R/clusters/a" "$R/clusters/b" "$R/clusters/c"
release good-a charts/app "  values:
    message: base" >"$R/clusters/a/good.yaml"
release good-b charts/app "  values:
    message: base" >"$R/clusters/b/good.yaml"
release good-c charts/app "  values:
    message: base" >"$R/clusters/c/good.yaml"
git -C "$R" add -A && git -C "$R" -c commit.gpgsign=false commit -q -m base
BASE=$(git -C "$R" rev-parse HEAD)

# Head: the good releases change (so they are rendered), and the bombs arrive.
sed -i 's/message: base/message: head/' "$R/clusters/a/good.yaml" "$R/clusters/b/good.yaml" "$R/clusters/c/good.yaml"
{
  release secret-bomb charts/app "  valuesFrom:
    - secretKeyRef:
        name: bomb-values
        key: values.yaml"
  echo "---"
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: bomb-values
  namespace: default
stringData:
  values.yaml: |
$(laughs "    ")
EOF
} >"$R/clusters/a/secret-bomb.yaml"
release values-bomb charts/app "  values:
$(laughs "    ")" >"$R/clusters/b/values-bomb.yaml"
release chart-bomb charts/bad "" >"$R/clusters/c/chart-bomb.yaml"
{ printf 'apiVersion: v2\nname: bad\nversion: 0.1.0\n'; laughs ""; } >"$R/charts/bad/Chart.yaml"
git -C "$R" add -A && git -C "$R" -c commit.gpgsign=false commit -q -m bombs
HEAD=$(git -C "$R" rev-parse HEAD)

export HELMGATE_CACHE_DIR=$T/cache HELMGATE_REDACTION_KEY=helmgate-test-key
start=$(date +%s%N)
set +e
(cd "$R" && /usr/bin/time -v -o "$T/time.txt" "$BIN" preview --base "$BASE" --head "$HEAD" --format text \
  >"$T/out.md" 2>"$T/err.txt")
rc=$?
set -e
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$T/time.txt")
echo "preview: exit $rc in ${elapsed_ms} ms, peak RSS ${rss_kb} kB"
OUT="$(cat "$T/out.md" "$T/err.txt")"

# It finished by itself (no signal, no std::bad_alloc), quickly and small.
[ "$rc" -lt 128 ] && ! grep -q "bad_alloc" <<<"$OUT" && pass "preview exited normally ($rc)" || fail "preview died: exit $rc: $(tail -5 "$T/err.txt")"
[ "$elapsed_ms" -lt 60000 ] && pass "finished in ${elapsed_ms} ms" || fail "took ${elapsed_ms} ms"
[ -n "$rss_kb" ] && [ "$rss_kb" -lt $((300 * 1024)) ] && pass "peak RSS ${rss_kb} kB < 300 MB" || fail "peak RSS ${rss_kb:-?} kB"

# Each bomb is named with its place and the limit.
grep -q 'valuesFrom Secret default/bomb-values\[values.yaml\].*: YAML alias expansion exceeds 1,000,000 nodes (limits.yaml_max_nodes)' <<<"$OUT" &&
  pass "the values Secret is named with the limit" || fail "no error naming the values Secret and the limit:
$OUT"
grep -q 'clusters/a/secret-bomb.yaml' <<<"$OUT" && pass "the Secret's file is named" || fail "the Secret's file is not named"
grep -Eq 'clusters/b/values-bomb.yaml(:[0-9]+)*.*YAML alias expansion exceeds 1,000,000 nodes \(limits.yaml_max_nodes\)' <<<"$OUT" &&
  pass "spec.values bomb: file and limit named" || fail "no error naming clusters/b/values-bomb.yaml and the limit:
$OUT"
grep -Eq 'Chart.yaml.*YAML alias expansion exceeds 1,000,000 nodes' <<<"$OUT" &&
  pass "Chart.yaml bomb: file and limit named" || fail "no error naming the chart's Chart.yaml and the limit:
$OUT"

# The releases the bombs do not reach still render (their new message is in the diff).
for r in good-a good-c; do
  grep -q "$r" "$T/out.md" && pass "$r is in the report" || fail "$r is missing from the report"
done
n=$(grep -c '^+  message: head' "$T/out.md" || true)
[ "$n" -ge 2 ] && pass "unaffected releases rendered ($n)" || fail "unaffected releases not rendered:
$(cat "$T/out.md")"

if [ "$failures" -gt 0 ]; then
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "alias bomb: all checks passed"
