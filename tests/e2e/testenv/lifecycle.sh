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
