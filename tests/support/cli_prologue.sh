# The prologue every test of the real `helmgate` binary shares (sourced after `set -euo pipefail`):
#   . "$(dirname "$0")/../../support/cli_prologue.sh"
#   hg_cli_begin NAME [helm] [kubectl]   run through ctest; BIN built; TMP (removed at exit unless KEEP is
#                                        set); failures, fail(), pass(); helm: HELM=$HELMGATE_HELM required;
#                                        kubectl: HELMGATE_KUBECTL required
#   hg_git_identity                      a fixed author and committer for the test's own commits
#   hg_corpus NAME                       CORPUS=<shared>/corpora/NAME, which must exist
#   hg_cli_end MESSAGE                   exit 1 naming the failures, else print MESSAGE
# Nothing is skipped: a missing variable, binary or corpus fails the test.

hg_cli_begin() {
  local name=$1 need
  shift
  : "${HELMGATE_BINARY_DIR:?run through ctest (needs HELMGATE_BINARY_DIR)}"
  for need in "$@"; do
    case $need in
      helm) HELM=${HELMGATE_HELM:?HELMGATE_HELM is not set: run scripts/testenv env, or export it} ;;
      kubectl) : "${HELMGATE_KUBECTL:?HELMGATE_KUBECTL is not set: run scripts/testenv env, or export it}" ;;
      *) echo "FAIL: hg_cli_begin: unknown requirement $need"; exit 1 ;;
    esac
  done
  BIN=$HELMGATE_BINARY_DIR/helmgate
  [ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
  TMP=$(mktemp -d "/tmp/hg-$name.XXXXXX")
  trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
  failures=0
}

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

hg_git_identity() {
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
}

hg_corpus() {
  : "${HELMGATE_SOURCE_DIR:?run through ctest (needs HELMGATE_SOURCE_DIR)}"
  local shared=${HELMGATE_SHARED_DIR:-$(cd "$HELMGATE_SOURCE_DIR/.." && pwd)/shared}
  CORPUS=$shared/corpora/$1
  [ -d "$CORPUS" ] || { echo "FAIL: corpus not found: $CORPUS"; exit 1; }
}

hg_cli_end() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "$1"
}

# hg_chart_repo CHART_DIR...: `helm package` each chart into $TMP/charts, index it and serve it on a free
# loopback port (python's http.server); sets CHART_URL and SERVER_PID (the caller's exit trap stops it).
# Needs HELM and TMP.
hg_chart_repo() {
  local chart port
  mkdir -p "$TMP/charts"
  for chart in "$@"; do "$HELM" package -d "$TMP/charts" "$chart" >/dev/null; done
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  CHART_URL=http://127.0.0.1:$port
  "$HELM" repo index "$TMP/charts" --url "$CHART_URL"
  python3 -m http.server --bind 127.0.0.1 --directory "$TMP/charts" "$port" >"$TMP/http.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do
    curl -sf "$CHART_URL/index.yaml" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL: chart server on $CHART_URL did not start"
  cat "$TMP/http.log"
  exit 1
}
