# scripts/testenv while the environment runs: status is healthy, a second `up` is refused clearly,
# env exports the documented names.
. "$(dirname "$0")/lib.sh"
require_env HELMGATE_TESTENV_DIR
T=$HELMGATE_SOURCE_DIR/scripts/testenv

expect_ok "status" "$T" status
for n in redis etcd kube-apiserver-dev kube-apiserver-staging kube-apiserver-prod gitea; do
  grep -qE "^$n +[0-9]+ +ok$" <<<"$OUT" || fail "status does not show $n as ok: $OUT"
done

expect_fail "second up" "$T" up
contains "$OUT" "already running" "second up"
expect_ok "status after refused up" "$T" status

expect_ok "env" "$T" env
for v in HELMGATE_TESTENV_DIR HELMGATE_TEST_REDIS_URL HELMGATE_HELM HELMGATE_KUBECTL PATH HELMGATE_TEST_KUBE_VERSION \
         HELMGATE_TEST_GITEA_URL HELMGATE_TEST_GITEA_TOKEN HELMGATE_TEST_GITEA_USER HELMGATE_TEST_GITEA_PASSWORD; do
  grep -q "^export $v=" <<<"$OUT" || fail "env does not export $v"
done
for c in DEV STAGING PROD; do
  grep -q "^export HELMGATE_TEST_KUBECONFIG_$c=" <<<"$OUT" || fail "env does not export HELMGATE_TEST_KUBECONFIG_$c"
  grep -q "^export HELMGATE_TEST_KUBECONFIG_${c}_RESTRICTED=" <<<"$OUT" || fail "env lacks ${c}_RESTRICTED"
done
[[ $HELMGATE_TEST_REDIS_URL =~ ^redis://127\.0\.0\.1:[0-9]+/0$ ]] || fail "bad redis url $HELMGATE_TEST_REDIS_URL"
[[ $HELMGATE_TEST_KUBE_VERSION =~ ^1\.35\.[0-9]+$ ]] || fail "bad kube version $HELMGATE_TEST_KUBE_VERSION"

# Redis runs with AOF on, on loopback.
port=${HELMGATE_TEST_REDIS_URL##*:}; port=${port%/0}
[ "$(redis-cli -h 127.0.0.1 -p "$port" config get appendonly | tail -n 1)" = yes ] || fail "redis AOF is off"
[ "$(redis-cli -h 127.0.0.1 -p "$port" config get bind | tail -n 1)" = 127.0.0.1 ] || fail "redis binds beyond loopback"

# Every recorded server listens, and only on loopback.
listeners=$(ss -ltnpH) || fail "ss failed"
for f in "$HELMGATE_TESTENV_DIR"/pids/*; do
  read -r pid _ <"$f"
  addrs=$(grep "pid=$pid," <<<"$listeners" | awk '{print $4}' || true)
  [ -n "$addrs" ] || fail "$(basename "$f") (pid $pid) listens on no TCP port"
  bad=$(grep -vE '^(127\.0\.0\.1|\[::1\]):' <<<"$addrs" || true)
  [ -z "$bad" ] || fail "$(basename "$f") listens beyond loopback: $bad"
done
pass "status, refused second up, env names, redis AOF, loopback only"

# A second, independent environment in another run dir: up works next to the first one (builds are cached),
# and down stops exactly its own recorded processes, never a process whose pid was recycled.
second=$(mktemp -d)
foreign_pid=""
trap '[ -z "$foreign_pid" ] || kill "$foreign_pid" 2>/dev/null || true; HELMGATE_TESTENV_DIR="$second" "$T" down >/dev/null 2>&1 || true; rm -rf "$second"' EXIT
expect_ok "second environment up" env HELMGATE_TESTENV_DIR="$second" "$T" up
pids=()
for f in "$second"/pids/*; do read -r pid _ <"$f"; pids+=("$pid"); done
[ ${#pids[@]} -eq 6 ] || fail "expected 6 recorded processes in the second environment, found ${#pids[@]}"
port2=$(sed -n 's/^REDIS_PORT=//p' "$second/state.env")
[ "$port2" != "$port" ] || fail "both environments use redis port $port"
# A process recorded with a different start time stands for a recycled pid: down must leave it alone.
sleep 300 &
foreign_pid=$!
echo "$foreign_pid 1" >"$second/pids/foreign"
expect_ok "second environment down" env HELMGATE_TESTENV_DIR="$second" "$T" down
for pid in "${pids[@]}"; do
  ! kill -0 "$pid" 2>/dev/null || fail "pid $pid still runs after down"
done
kill -0 "$foreign_pid" 2>/dev/null || fail "down killed a process it did not start (pid $foreign_pid)"
[ -z "$(ls -A "$second/pids")" ] || fail "pid files left after down: $(ls "$second/pids")"
expect_ok "first environment still healthy" "$T" status
pass "independent second environment; down stops exactly its own processes"
