#!/usr/bin/env bash
# FUZZ_TARGET=webhook (default) or repo picks the target.
# FUZZ_MODE=replay: run the seed corpus through the gcc-built replay binary.
# otherwise: build the libFuzzer target with clang (ASan+UBSan) in its own build dir and fuzz for
# $HELMGATE_FUZZ_SECONDS (default $FUZZ_DEFAULT_SECONDS, else 60) seconds, starting from the seeds.
set -euo pipefail
SRC=${HELMGATE_SOURCE_DIR:?}
BIN=${HELMGATE_BINARY_DIR:?}
SHARED=${HELMGATE_SHARED_DIR:-$SRC/../shared}
TARGET=${FUZZ_TARGET:-webhook}
case "$TARGET" in webhook) SEEDS=$BIN/fuzz-seeds ;; repo) SEEDS=$BIN/fuzz-seeds-repo ;; sops) SEEDS=$BIN/fuzz-seeds-sops ;; *) echo "FUZZ_TARGET=$TARGET?" >&2; exit 2 ;; esac
rm -rf "$SEEDS" && mkdir -p "$SEEDS"

n=0
if [ "$TARGET" = webhook ]; then
  # Seed files: selector byte (forge bit 0, event index bits 1-3), a signature line, the payload.
  seed() {  # seed <selector-octal> <file>
    printf "\\$1" >"$SEEDS/s$n"; printf 'sha256=%064d\n' 0 >>"$SEEDS/s$n"; cat "$2" >>"$SEEDS/s$n"; n=$((n + 1))
  }
  for f in "$SHARED"/corpora/github-webhooks/octokit/pull_request/*.json; do seed 004 "$f"; done
  for f in "$SHARED"/corpora/github-webhooks/octokit/push/*.json; do seed 002 "$f"; done
  for f in "$SHARED"/corpora/github-webhooks/octokit/issue_comment/*.json; do seed 006 "$f"; done
  for f in "$SHARED"/corpora/github-webhooks/octokit/ping/*.json; do seed 000 "$f"; done
  for f in "$SHARED"/corpora/gitea-webhooks/go-scm/pull_request_*.json; do seed 005 "$f"; done
  for f in "$SHARED"/corpora/gitea-webhooks/go-scm/*comment*.json; do seed 007 "$f"; done
  seed 003 "$SHARED/corpora/gitea-webhooks/go-scm/push.json"
  [ "$n" -ge 40 ] || { echo "only $n seeds: corpus missing?" >&2; exit 1; }
elif [ "$TARGET" = sops ]; then
  # Seed files: selector byte (0 age file, 1 SOPS document, 2 SOPS JSON text, 3 key file), then text.
  # sops-seeds/ holds files the real sops and age made for fuzz_sops.cpp's throwaway key.
  seed() { printf "\\$1" >"$SEEDS/o$n"; cat "$2" >>"$SEEDS/o$n"; n=$((n + 1)); }
  text() { printf "\\$1" >"$SEEDS/o$n"; printf '%s' "$2" >>"$SEEDS/o$n"; n=$((n + 1)); }
  seed 000 "$SRC/tests/fuzz/sops-seeds/plain.age"
  seed 001 "$SRC/tests/fuzz/sops-seeds/values.enc.yaml"
  seed 001 "$SRC/tests/fuzz/sops-seeds/values.enc.json"
  seed 002 "$SRC/tests/fuzz/sops-seeds/values.enc.json"
  # A fuzzer find: an error that quotes its input, which holds the identity (not a leak).
  seed 002 "$SRC/tests/fuzz/sops-seeds/quotes-the-identity.json"
  text 003 '# created: 2026-01-01T00:00:00Z
AGE-SECRET-KEY-1EZ3E24TCRT7DMXJT7G78GNEWKNPNYYTXM9CH0WJQE87RA8K28RUS5XKTG0'
  text 000 'age-encryption.org/v1
-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
'
  text 001 'a: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]
sops: {mac: "ENC[AES256_GCM,data:,iv:,tag:,type:str]", lastmodified: "2026-01-01T00:00:00Z", age: [{recipient: x, enc: y}], encrypted_regex: "(((a)*)*)*"}'
else
  # Seed files: selector byte (0 load_all, 1 values, 2 targetPath, 3 name gate, 4 kustomize scan), then text.
  seed() {  # seed <selector-octal> <file>
    printf "\\$1" >"$SEEDS/r$n"; cat "$2" >>"$SEEDS/r$n"; n=$((n + 1))
  }
  text() {  # text <selector-octal> <text>
    printf "\\$1" >"$SEEDS/r$n"; printf '%s' "$2" >>"$SEEDS/r$n"; n=$((n + 1))
  }
  while IFS= read -r -d '' f; do
    case "$f" in
      */kustomization.yaml) seed 004 "$f"; seed 000 "$f" ;;
      *) seed 000 "$f"; if grep -q 'kind: HelmRelease' "$f"; then seed 003 "$f"; fi ;;
    esac
  done < <(find "$SHARED"/corpora/flux2-kustomize-helm-example "$SHARED"/corpora/flux2-multi-tenancy \
                "$SHARED"/corpora/helm-operator-get-started \( -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z)
  while IFS= read -r -d '' f; do seed 001 "$f"; done < <(find "$SHARED"/corpora/charts -name values.yaml -print0 | sort -z)
  [ "$n" -ge 100 ] || { echo "only $n seeds: corpus missing?" >&2; exit 1; }
  # Handcrafted: an alias bomb, deep nesting, hostile names and paths, YAML 1.1 typing corners.
  text 001 'a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]'
  text 000 "$(printf '%0.s[' $(seq 200))x$(printf '%0.s]' $(seq 200))"
  text 001 "$(for i in $(seq 40); do printf "%*sk$i:\n" $((i * 2)) ''; done)"
  text 001 'a: &x {b: 1}
c: {<<: *x, d: 0o17, e: 0x1F, f: 1_000, g: 1.10, h: yes, i: ~, j: 2001-12-14, k: .inf, l: !!str 12, m: "\u00e9"}
? [1, 2]
: complex key
1.5: float key
true: bool key'
  text 001 'n: -9223372036854775808
o: 9223372036854775808
p: 1e400
q: -0.0
r: 0.000001
s: 1e21
t: 0b101
u: +12
v: 012
w: 1:20
x: |
  block
y: >-
  folded'
  text 000 "$(printf 'k\352: x\353\nk\353: 2\n')"  # not UTF-8 (found by this fuzzer: typed as U+FFFD now)
  text 002 'a.b[3].c\.d
"quoted, value"'
  text 002 'x[65536]
{a,b,c}'
  text 002 'a..b
1'
  text 002 'a[99999]
true'
  text 002 'deep.deep.deep.deep.deep.deep.deep.deep.deep.deep.deep.deep.deep.deep.deep.deep
0123'
  text 003 'apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: "--set=x", namespace: "kube-system\nX: y"}
spec:
  releaseName: "../../etc"
  targetNamespace: "UPPER"
  chart: {spec: {chart: "-f/etc/passwd", version: "--post-renderer=/bin/sh", sourceRef: {kind: "Git Repository", name: "a b"}}}
  valuesFrom: [{kind: Secret, name: "x\u0000y", valuesKey: ".."}, {kind: ConfigMap, name: ok, valuesKey: "../x", targetPath: "a[0]"}]'
  text 003 'apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: ok, namespace: "-n"}
spec:
  chart: {git: "ssh://x", path: "../outside", ref: "--upload-pack=touch /tmp/x"}
  valuesFrom: [{chartFileRef: {path: "/etc/passwd"}}, {secretKeyRef: {name: s, key: "a/b"}}]'
  text 004 'resources: [https://evil.example/x.yaml, "github.com/org/repo//dir?ref=v1", "git@github.com:o/r.git", /etc, ../../.., missing-dir]
bases: ["ssh://git@host/repo"]
patches: [{path: "../../../etc/shadow"}, {path: "http://x/p.yaml"}]
configMapGenerator: [{name: x, files: ["k=/etc/passwd", "../secret"], envs: ["~/.env"]}]
helmCharts: [{name: x, repo: "https://charts.example", version: 1.0.0}]
openapi: {path: "https://x/openapi.json"}'
fi

if [ "${FUZZ_MODE:-}" = replay ]; then
  exec "$BIN/tests/fuzz/fuzz_${TARGET}_replay" "$SEEDS"/*
fi

FB=$BIN/fuzz-clang  # a clang build of its own, inside the main build dir
command -v clang++ >/dev/null || { echo "clang++ is missing: run scripts/bootstrap" >&2; exit 1; }
if [ ! -f "$FB/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$SRC" -B "$FB" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHELMGATE_FUZZ=ON \
    >"$FB.configure.log" 2>&1 || { tail -20 "$FB.configure.log" >&2; exit 1; }
fi
ninja -C "$FB" "fuzz_$TARGET" >/dev/null
CORPUS=$BIN/fuzz-corpus; [ "$TARGET" = webhook ] || CORPUS=$BIN/fuzz-corpus-$TARGET
mkdir -p "$CORPUS" "$BIN/fuzz-artifacts"
export UBSAN_OPTIONS="print_stacktrace=1"
LOG=$BIN/fuzz-$TARGET.log  # the whole run; shown here: coverage at start and end, the stats, or the crash
rc=0
"$FB/tests/fuzz/fuzz_$TARGET" -artifact_prefix="$BIN/fuzz-artifacts/$TARGET-" \
  -max_total_time="${HELMGATE_FUZZ_SECONDS:-${FUZZ_DEFAULT_SECONDS:-60}}" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$CORPUS" "$SEEDS" >"$LOG" 2>&1 || rc=$?
grep -E '(INITED|DONE) +cov:|^stat::' "$LOG" || true
[ "$rc" -eq 0 ] || { tail -60 "$LOG"; echo "fuzz_$TARGET failed (exit $rc): the input is in $BIN/fuzz-artifacts/, full log $LOG" >&2; }
exit "$rc"
