#!/usr/bin/env bash
# FUZZ_MODE=replay: run the seed corpus through the gcc-built replay binary.
# otherwise: build the libFuzzer target with clang (ASan+UBSan) in its own build dir and fuzz for
# $HELMGATE_FUZZ_SECONDS (default 60) seconds, starting from the recorded webhook payloads.
set -euo pipefail
SRC=${HELMGATE_SOURCE_DIR:?}
BIN=${HELMGATE_BINARY_DIR:?}
SHARED=${HELMGATE_SHARED_DIR:-$SRC/../shared}
SEEDS=$BIN/fuzz-seeds
rm -rf "$SEEDS" && mkdir -p "$SEEDS"

# Seed files: selector byte (forge bit 0, event index bits 1-3), a signature line, the payload.
n=0
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

if [ "${FUZZ_MODE:-}" = replay ]; then
  exec "$BIN/tests/fuzz/fuzz_webhook_replay" "$SEEDS"/*
fi

FB=$BIN/fuzz-clang  # a clang build of its own, inside the main build dir
command -v clang++ >/dev/null || { echo "clang++ is missing: run scripts/bootstrap" >&2; exit 1; }
if [ ! -f "$FB/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$SRC" -B "$FB" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHELMGATE_FUZZ=ON \
    >"$FB.configure.log" 2>&1 || { tail -20 "$FB.configure.log" >&2; exit 1; }
fi
ninja -C "$FB" fuzz_webhook >/dev/null
mkdir -p "$BIN/fuzz-corpus" "$BIN/fuzz-artifacts"
export UBSAN_OPTIONS="print_stacktrace=1"
"$FB/tests/fuzz/fuzz_webhook" -artifact_prefix="$BIN/fuzz-artifacts/" -max_total_time="${HELMGATE_FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$BIN/fuzz-corpus" "$SEEDS" 2>&1 | tail -15
