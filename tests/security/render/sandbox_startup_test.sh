#!/usr/bin/env bash
# The render sandbox fails closed: `serve` (with in-process workers), `worker` and `preview` stop with a clear
# message naming the failed step and the switch when the sandbox cannot be created (simulated with the
# test-only HELMGATE_TEST_SANDBOX_FAIL), and start with a loud warning when it is turned off
# (render.sandbox: off, or HELMGATE_SANDBOX=off / --no-sandbox for preview). With the sandbox on they start
# and log that it is ready.
set -euo pipefail

: "${HELMGATE_BINARY_DIR:?run through ctest (needs HELMGATE_BINARY_DIR)}"
BIN=$HELMGATE_BINARY_DIR/helmgate
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }

TMP=$(mktemp -d /tmp/hg-sandbox-startup.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

export HELMGATE_API_TOKEN=test-token-not-a-secret
# No Redis is needed to start (serve warns; the worker retries): port 1 refuses at once.
cat >"$TMP/on.yaml" <<'YAML'
redis: {url: "redis://127.0.0.1:1/0"}
workers: 1
YAML
cat >"$TMP/off.yaml" <<'YAML'
redis: {url: "redis://127.0.0.1:1/0"}
workers: 1
render:
  sandbox: off
YAML

# start CMD... : runs a long-lived command, waits up to 20 s for `pattern` in its output, then stops it.
start_and_expect() {
  local name=$1 pattern=$2
  shift 2
  "$@" >"$TMP/$name.out" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do
    if grep -q -- "$pattern" "$TMP/$name.out"; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

# --- refused sandbox: serve and worker stop, naming the step and the switch
for cmd in serve worker; do
  set +e
  HELMGATE_TEST_SANDBOX_FAIL=1 timeout 30 "$BIN" "$cmd" --config "$TMP/on.yaml" $([ "$cmd" = serve ] && echo --listen 127.0.0.1:0) \
    >"$TMP/$cmd-refused.out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 1 ] && grep -q "sandbox: creating the user namespace" "$TMP/$cmd-refused.out" &&
     grep -q "on.yaml: render.sandbox: off" "$TMP/$cmd-refused.out"; then
    pass "$cmd refuses to start when the sandbox cannot be created"
  else
    fail "$cmd with a refused sandbox: exit $rc, output: $(cat "$TMP/$cmd-refused.out")"
  fi
  if grep -q "listening on" "$TMP/$cmd-refused.out"; then fail "$cmd listened although the sandbox was refused"; fi
done

# --- render.sandbox: off: starts, with the warning (also when the kernel would refuse it)
if start_and_expect serve-off "listening on" env HELMGATE_TEST_SANDBOX_FAIL=1 "$BIN" serve --config "$TMP/off.yaml" --listen 127.0.0.1:0 &&
   grep -q "warn.*RENDER SANDBOX OFF (.*off.yaml: render.sandbox: off)" "$TMP/serve-off.out"; then
  pass "serve starts with render.sandbox: off and warns"
else
  fail "serve with render.sandbox: off: $(cat "$TMP/serve-off.out")"
fi
if start_and_expect worker-off "worker started" env HELMGATE_TEST_SANDBOX_FAIL=1 "$BIN" worker --config "$TMP/off.yaml" &&
   grep -q "warn.*RENDER SANDBOX OFF" "$TMP/worker-off.out"; then
  pass "worker starts with render.sandbox: off and warns"
else
  fail "worker with render.sandbox: off: $(cat "$TMP/worker-off.out")"
fi

# --- sandbox on and working: starts and says so
if start_and_expect serve-on "listening on" "$BIN" serve --config "$TMP/on.yaml" --listen 127.0.0.1:0 &&
   grep -q "render sandbox ready: user, mount, pid, ipc, uts and net namespaces" "$TMP/serve-on.out"; then
  pass "serve starts with the sandbox on"
else
  fail "serve with the sandbox on: $(cat "$TMP/serve-on.out")"
fi

# --- preview: the same rule; --no-sandbox and HELMGATE_SANDBOX=off turn it off with a warning on stderr
git init -q -b main "$TMP/repo"
git -C "$TMP/repo" -c user.email=t@example.com -c user.name=t commit -q --allow-empty -m init
set +e
HELMGATE_TEST_SANDBOX_FAIL=1 HELMGATE_CACHE_DIR=$TMP/cache "$BIN" preview --repo "$TMP/repo" --base HEAD --head HEAD \
  >"$TMP/preview-refused.out" 2>"$TMP/preview-refused.err"
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q "sandbox: creating the user namespace" "$TMP/preview-refused.err" &&
   grep -q -- "--no-sandbox" "$TMP/preview-refused.err"; then
  pass "preview refuses to run when the sandbox cannot be created"
else
  fail "preview with a refused sandbox: exit $rc: $(cat "$TMP/preview-refused.err")"
fi
for how in flag env; do
  set +e
  if [ $how = flag ]; then
    HELMGATE_TEST_SANDBOX_FAIL=1 HELMGATE_CACHE_DIR=$TMP/cache "$BIN" preview --no-sandbox --repo "$TMP/repo" --base HEAD \
      --head HEAD >"$TMP/preview-$how.out" 2>"$TMP/preview-$how.err"
  else
    HELMGATE_SANDBOX=off HELMGATE_TEST_SANDBOX_FAIL=1 HELMGATE_CACHE_DIR=$TMP/cache "$BIN" preview --repo "$TMP/repo" \
      --base HEAD --head HEAD >"$TMP/preview-$how.out" 2>"$TMP/preview-$how.err"
  fi
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] && grep -q "warning: RENDER SANDBOX OFF" "$TMP/preview-$how.err" &&
     ! grep -q "RENDER SANDBOX OFF" "$TMP/preview-$how.out"; then
    pass "preview runs with the sandbox off ($how) and warns on stderr"
  else
    fail "preview with the sandbox off ($how): exit $rc: $(cat "$TMP/preview-$how.err")"
  fi
done

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
