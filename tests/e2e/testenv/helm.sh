# helm upgrade --install / upgrade / uninstall of the podinfo chart against each API server (admin), and as the
# restricted identity inside team-a (allowed) and outside it (denied). No --wait and no hooks: there are no nodes.
. "$(dirname "$0")/lib.sh"
require_env HELMGATE_HELM HELMGATE_KUBECTL HELMGATE_TEST_KUBE_VERSION \
  HELMGATE_TEST_KUBECONFIG_DEV HELMGATE_TEST_KUBECONFIG_STAGING HELMGATE_TEST_KUBECONFIG_PROD \
  HELMGATE_TEST_KUBECONFIG_DEV_RESTRICTED
CHART=$SHARED_DIR/corpora/charts/podinfo-6.14.1
[ -f "$CHART/Chart.yaml" ] || fail "chart not found at $CHART (set HELMGATE_SHARED_DIR)"
H=$HELMGATE_HELM K=$HELMGATE_KUBECTL
export HELM_CACHE_HOME=$(mktemp -d) HELM_CONFIG_HOME=$(mktemp -d) HELM_DATA_HOME=$(mktemp -d)
trap 'rm -rf "$HELM_CACHE_HOME" "$HELM_CONFIG_HOME" "$HELM_DATA_HOME"' EXIT

for c in dev staging prod; do
  C=${c^^}
  kc=HELMGATE_TEST_KUBECONFIG_$C; kc=${!kc}
  ns=helm-$c-$RUN_ID rel=podinfo
  h=("$H" --kubeconfig "$kc"); k=("$K" --kubeconfig "$kc")

  expect_ok "$c: helm upgrade --install" "${h[@]}" upgrade --install "$rel" "$CHART" -n "$ns" --create-namespace \
    --set replicaCount=2 --timeout 2m
  contains "$OUT" "STATUS: deployed" "$c: install"
  [ "$("${k[@]}" -n "$ns" get deployment "$rel" -o jsonpath='{.spec.replicas}')" = 2 ] ||
    fail "$c: deployment not created with 2 replicas"
  # The chart saw the real server version (kubeVersion constraint and Capabilities).
  expect_ok "$c: helm get manifest" "${h[@]}" -n "$ns" get manifest "$rel"
  contains "$OUT" "kind: Deployment" "$c: manifest"

  expect_ok "$c: helm upgrade" "${h[@]}" upgrade --install "$rel" "$CHART" -n "$ns" --set replicaCount=3 --timeout 2m
  contains "$OUT" "REVISION: 2" "$c: upgrade"
  [ "$("${k[@]}" -n "$ns" get deployment "$rel" -o jsonpath='{.spec.replicas}')" = 3 ] || fail "$c: upgrade not applied"
  [ "$("${h[@]}" -n "$ns" history "$rel" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
    fail "$c: helm history does not have 2 revisions"

  expect_ok "$c: helm uninstall" "${h[@]}" -n "$ns" uninstall "$rel" --timeout 2m
  expect_fail "$c: deployment after uninstall" "${k[@]}" -n "$ns" get deployment "$rel"
  contains "$OUT" "NotFound" "$c: uninstall removed the deployment"
  [ -z "$("${h[@]}" -n "$ns" list -q)" ] || fail "$c: release still listed after uninstall"
  pass "$c: helm upgrade --install, upgrade, uninstall"
done

# The restricted identity can run helm inside team-a (release storage is Secrets in team-a) but not elsewhere.
kr=$HELMGATE_TEST_KUBECONFIG_DEV_RESTRICTED
expect_ok "restricted helm install in team-a" "$H" --kubeconfig "$kr" upgrade --install "p$$" "$CHART" -n team-a --timeout 2m
contains "$OUT" "STATUS: deployed" "restricted install"
expect_ok "restricted helm uninstall in team-a" "$H" --kubeconfig "$kr" -n team-a uninstall "p$$" --timeout 2m
expect_fail "restricted helm install in default" "$H" --kubeconfig "$kr" upgrade --install "p$$" "$CHART" -n default --timeout 2m
contains "$OUT" "forbidden" "restricted install outside team-a"
pass "restricted identity: helm in team-a allowed, in default forbidden"
