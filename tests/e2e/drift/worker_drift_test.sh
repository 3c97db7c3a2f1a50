#!/usr/bin/env bash
# Two real `helmgate worker` processes on the test environment's Redis and staging API server: the drift
# schedule runs in each, exactly one of them scans the cluster in the interval, the drift and inventory
# land in Redis, and SIGTERM stops both cleanly (exit 0) with the schedule's thread joined.
set -euo pipefail
. "$(dirname "$0")/../../support/cli_prologue.sh"
hg_cli_begin worker-drift helm kubectl
hg_git_identity
: "${HELMGATE_TEST_REDIS_URL:?run scripts/testenv env}" "${HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW:?}"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
RUN=$$x$RANDOM
PREFIX=hgwdrift$RUN
NS=hg-wdrift-$RUN

git init -q -b main "$TMP/repo"
cp -r "$HELMGATE_SOURCE_DIR/tests/e2e/fleet/charts/drift-demo" "$TMP/repo/"
mkdir -p "$TMP/repo/releases/staging"
cat >"$TMP/repo/releases/staging/shop.yaml" <<YAML
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: shop, namespace: $NS}
spec:
  releaseName: shop
  chart: {git: $TMP/repo, path: drift-demo, ref: main}
YAML
git -C "$TMP/repo" add -A && git -C "$TMP/repo" commit -qm "shop on staging"

cat >"$TMP/hg.yaml" <<YAML
redis: {url: "$HELMGATE_TEST_REDIS_URL"}
queue: {key_prefix: $PREFIX}
render: {sandbox: off}
forges: [{name: gitea, kind: gitea, api_url: "http://127.0.0.1:1", webhook_secret_env: HG_UNUSED}]
repos:
- name: platform/fleet
  url: $TMP/repo
  forge: gitea
  clusters:
  - name: staging
    paths: [releases/staging]
    kubeconfig: "$HELMGATE_TEST_KUBECONFIG_STAGING"
    preview_kubeconfig: "$HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW"
    kube_version: "$HELMGATE_TEST_KUBE_VERSION"
    drift: {interval: 30s, jitter: "0", namespaces: [$NS]}
YAML

for w in a b; do
  HELMGATE_CACHE_DIR=$TMP/cache-$w "$BIN" worker --config "$TMP/hg.yaml" >"$TMP/$w.out" 2>"$TMP/$w.log" &
  PIDS+=($!)
done
for _ in $(seq 600); do
  cat "$TMP/a.log" "$TMP/b.log" | grep -q 'drift scan staging:' && break
  sleep 0.1
done
sleep 3  # both schedulers tick again meanwhile: the lease holds for 30s
scans=$(cat "$TMP/a.log" "$TMP/b.log" | grep -c 'drift scan staging:' || true)
[ "$scans" = 1 ] && pass "one scan of staging by two workers" || fail "$scans scans of staging: $(cat "$TMP/a.log" "$TMP/b.log")"
grep -q "drift scan staging: 0 in_sync, 0 drifted, 1 missing" "$TMP/a.log" "$TMP/b.log" &&
  pass "the scan found the release missing (never installed)" || fail "scan line: $(grep -h 'drift scan' "$TMP/a.log" "$TMP/b.log")"
for kind in drift inventory; do
  json=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" HGET "{$PREFIX}:fleet:$kind" staging)
  at=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" HGET "{$PREFIX}:fleet:$kind" staging@at)
  case $json in *'"cluster":"staging"'*) pass "$kind stored in Redis at $at" ;; *) fail "$kind in Redis: '$json'" ;; esac
done
json=$(redis-cli -u "$HELMGATE_TEST_REDIS_URL" HGET "{$PREFIX}:fleet:inventory" staging)
case $json in *'"reachable":true'*) pass "inventory: reachable" ;; *) fail "inventory: $json" ;; esac

for i in 0 1; do kill -TERM "${PIDS[$i]}"; done
for i in 0 1; do
  rc=0
  wait "${PIDS[$i]}" || rc=$?
  [ $rc = 0 ] && pass "worker $i stopped with exit 0" || fail "worker $i exit $rc"
done
grep -q "worker stopped" "$TMP/a.log" && grep -q "worker stopped" "$TMP/b.log" && pass "both logged their stop" ||
  fail "stop not logged: $(tail -3 "$TMP/a.log" "$TMP/b.log")"
redis-cli -u "$HELMGATE_TEST_REDIS_URL" DEL "{$PREFIX}:fleet:drift" "{$PREFIX}:fleet:inventory" "{$PREFIX}:fleet:scan:staging" >/dev/null
hg_cli_end "worker drift schedule: ok"
