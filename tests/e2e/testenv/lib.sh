# Shared by the testenv e2e scripts. Sourced.
set -euo pipefail

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

# The environment must be up: tests never skip.
require_env() {
  local v
  for v in "$@"; do
    [ -n "${!v:-}" ] || fail "$v is not set; run the tests through scripts/test (or: scripts/testenv up && eval \"\$(scripts/testenv env)\")"
  done
}

# expect_fail <description> <cmd...>: the command must fail; its output is kept in $OUT.
expect_fail() {
  local what=$1; shift
  if OUT=$("$@" 2>&1); then fail "$what: expected a failure, got success: $OUT"; fi
}

# expect_ok <description> <cmd...>: the command must succeed; its output is kept in $OUT.
expect_ok() {
  local what=$1; shift
  OUT=$("$@" 2>&1) || fail "$what: $OUT"
}

contains() { # haystack needle description
  [[ $1 == *"$2"* ]] || fail "$3: expected to find '$2' in: $1"
}

HELMGATE_SOURCE_DIR=${HELMGATE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
SHARED_DIR=${HELMGATE_SHARED_DIR:-$HELMGATE_SOURCE_DIR/../shared}
# Unique per run, so tests can run again against the same environment.
RUN_ID=$(date +%s)-$$
