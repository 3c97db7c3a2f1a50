# Against each API server (dev, staging, prod): server-side apply, server dry-run with server validation,
# RBAC denial (HTTP 403) for the restricted identity, its allowed writes in team-a, ResourceQuota admission,
# the preview identity (reads and dry-runs anywhere, every real write denied by the admission policy), and
# the stamped server version.
. "$(dirname "$0")/lib.sh"
require_env HELMGATE_KUBECTL HELMGATE_TEST_KUBE_VERSION HELMGATE_TEST_KUBE_CA \
  HELMGATE_TEST_KUBE_CLIENT_CERT HELMGATE_TEST_KUBE_CLIENT_KEY \
  HELMGATE_TEST_KUBECONFIG_DEV HELMGATE_TEST_KUBECONFIG_STAGING HELMGATE_TEST_KUBECONFIG_PROD \
  HELMGATE_TEST_KUBECONFIG_DEV_RESTRICTED HELMGATE_TEST_KUBECONFIG_STAGING_RESTRICTED \
  HELMGATE_TEST_KUBECONFIG_PROD_RESTRICTED \
  HELMGATE_TEST_KUBECONFIG_DEV_PREVIEW HELMGATE_TEST_KUBECONFIG_STAGING_PREVIEW HELMGATE_TEST_KUBECONFIG_PROD_PREVIEW
K=$HELMGATE_KUBECTL
seen_uids=()

for c in dev staging prod; do
  C=${c^^}
  admin_kc=HELMGATE_TEST_KUBECONFIG_$C; admin_kc=${!admin_kc}
  restr_kc=HELMGATE_TEST_KUBECONFIG_${C}_RESTRICTED; restr_kc=${!restr_kc}
  ka=("$K" --kubeconfig "$admin_kc" --request-timeout=30s)
  kr=("$K" --kubeconfig "$restr_kc" --request-timeout=30s)
  ns=e2e-$c-$RUN_ID

  # Version stamping: helm's .Capabilities.KubeVersion comes from here.
  expect_ok "$c: kubectl version" "${ka[@]}" version -o json
  gv=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
  [ "$gv" = "v$HELMGATE_TEST_KUBE_VERSION" ] || fail "$c: server version $gv, expected v$HELMGATE_TEST_KUBE_VERSION"

  # Each cluster has its own etcd prefix: the kube-system namespace uid differs between clusters.
  uid=$("${ka[@]}" get namespace kube-system -o jsonpath='{.metadata.uid}')
  [ -n "$uid" ] || fail "$c: no kube-system uid"
  for u in "${seen_uids[@]}"; do [ "$u" != "$uid" ] || fail "$c: shares its storage with another cluster (uid $uid)"; done
  seen_uids+=("$uid")

  expect_ok "$c: create namespace" "${ka[@]}" create namespace "$ns"

  # Server-side apply: the object is created, fields are owned by our field manager.
  cm="apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, namespace: $ns}
data: {color: blue}"
  expect_ok "$c: server-side apply" "${ka[@]}" apply --server-side --field-manager=helmgate-e2e -f - <<<"$cm"
  contains "$OUT" "serverside-applied" "$c: apply --server-side output"
  [ "$("${ka[@]}" -n "$ns" get cm ssa -o jsonpath='{.data.color}')" = blue ] || fail "$c: applied data not stored"
  mgr=$("${ka[@]}" -n "$ns" get cm ssa --show-managed-fields -o jsonpath='{.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}')
  [ "$mgr" = "helmgate-e2e/Apply" ] || fail "$c: managedFields say $mgr, expected helmgate-e2e/Apply"
  # A second manager changing an owned field is a conflict the server reports.
  expect_fail "$c: SSA conflict" "${ka[@]}" apply --server-side --field-manager=other -f - <<<"${cm/blue/red}"
  contains "$OUT" "conflict" "$c: SSA conflict message"

  # Server dry-run: the answer shows the change, nothing is stored.
  expect_ok "$c: dry-run=server" "${ka[@]}" apply --server-side --field-manager=helmgate-e2e --dry-run=server \
    -o jsonpath='{.data.color}' -f - <<<"${cm/blue/green}"
  [ "$OUT" = green ] || fail "$c: dry-run answer has color '$OUT', expected green"
  [ "$("${ka[@]}" -n "$ns" get cm ssa -o jsonpath='{.data.color}')" = blue ] || fail "$c: dry-run changed the object"
  expect_ok "$c: dry-run create" "${ka[@]}" -n "$ns" create configmap dry --from-literal=a=b --dry-run=server
  expect_fail "$c: dry-run object stored" "${ka[@]}" -n "$ns" get configmap dry
  contains "$OUT" "NotFound" "$c: dry-run create must not store"
  # Validation comes from the server (defaulting and validation of a Deployment without a selector).
  expect_fail "$c: invalid deployment" "${ka[@]}" apply --server-side --dry-run=server -f - <<EOF2
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: $ns}
spec:
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: busybox}]}
EOF2
  contains "$OUT" "spec.selector" "$c: server validation"

  # RBAC: the restricted identity cannot write outside team-a (HTTP 403)...
  expect_fail "$c: restricted write to $ns" "${kr[@]}" -n "$ns" create configmap denied --from-literal=a=b
  contains "$OUT" "is forbidden" "$c: restricted write"
  contains "$OUT" "team-a-deployer" "$c: denial names the user"
  token=$("$K" --kubeconfig "$restr_kc" config view --raw -o jsonpath='{.users[0].user.token}')
  server=$("$K" --kubeconfig "$restr_kc" config view --raw -o jsonpath='{.clusters[0].cluster.server}')
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$HELMGATE_TEST_KUBE_CA" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"denied"}}' \
    "$server/api/v1/namespaces/$ns/configmaps")
  [ "$code" = 403 ] || fail "$c: restricted POST answered $code, expected 403"
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$HELMGATE_TEST_KUBE_CA" \
    -H "Authorization: Bearer wrong-$token" "$server/api/v1/namespaces")
  [ "$code" = 401 ] || fail "$c: a wrong token answered $code, expected 401"
  # The admin client certificate (test CA) authenticates too; TLS is verified against the test CA.
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$HELMGATE_TEST_KUBE_CA" \
    --cert "$HELMGATE_TEST_KUBE_CLIENT_CERT" --key "$HELMGATE_TEST_KUBE_CLIENT_KEY" "$server/api/v1/namespaces")
  [ "$code" = 200 ] || fail "$c: client-certificate request answered $code, expected 200"
  expect_fail "$c: restricted cluster-scoped write" "${kr[@]}" create namespace "nope-$RUN_ID"
  contains "$OUT" "is forbidden" "$c: restricted namespace create"
  # ...and may write inside team-a (server-side apply included).
  expect_ok "$c: restricted write in team-a" "${kr[@]}" -n team-a apply --server-side -f - <<<"apiVersion: v1
kind: ConfigMap
metadata: {name: allowed-$RUN_ID}
data: {a: b}"
  expect_ok "$c: restricted delete in team-a" "${kr[@]}" -n team-a delete configmap "allowed-$RUN_ID"

  # The preview identity: reads everything, dry-runs anything, and every real write is denied (by the
  # ValidatingAdmissionPolicy for what RBAC allows, by RBAC for deletes and for the policy itself).
  prev_kc=HELMGATE_TEST_KUBECONFIG_${C}_PREVIEW; prev_kc=${!prev_kc}
  kp=("$K" --kubeconfig "$prev_kc" --request-timeout=30s)
  expect_ok "$c: preview reads" "${kp[@]}" -n "$ns" get configmap ssa -o jsonpath='{.data.color}'
  [ "$OUT" = blue ] || fail "$c: preview read color '$OUT', expected blue"
  expect_ok "$c: preview reads secrets" "${kp[@]}" get secrets -A
  expect_ok "$c: preview dry-run" "${kp[@]}" apply --server-side --force-conflicts --field-manager=helmgate --dry-run=server \
    -o jsonpath='{.data.color}' -f - <<<"${cm/blue/green}"
  [ "$OUT" = green ] || fail "$c: preview dry-run answered '$OUT', expected green"
  expect_ok "$c: preview dry-run create" "${kp[@]}" -n "$ns" create configmap prev-dry --from-literal=a=b --dry-run=server
  expect_ok "$c: preview dry-run namespace" "${kp[@]}" create namespace "prev-$RUN_ID" --dry-run=server
  expect_fail "$c: preview real apply" "${kp[@]}" apply --server-side --force-conflicts --field-manager=helmgate -f - <<<"${cm/blue/green}"
  contains "$OUT" "helmgate-preview-dry-run-only" "$c: preview real apply denied by the policy"
  expect_fail "$c: preview real create" "${kp[@]}" -n "$ns" create configmap prev-real --from-literal=a=b
  contains "$OUT" "helmgate-preview-dry-run-only" "$c: preview real create denied by the policy"
  expect_fail "$c: preview real namespace" "${kp[@]}" create namespace "prev-$RUN_ID"
  contains "$OUT" "helmgate-preview-dry-run-only" "$c: preview namespace create denied by the policy"
  expect_fail "$c: preview delete" "${kp[@]}" -n "$ns" delete configmap ssa
  contains "$OUT" "forbidden" "$c: preview delete"
  expect_fail "$c: preview edits the policy" "${kp[@]}" patch validatingadmissionpolicybinding \
    helmgate-preview-dry-run-only --type=merge -p '{"spec":{"validationActions":["Audit"]}}'
  contains "$OUT" "forbidden" "$c: preview policy edit"
  [ "$("${ka[@]}" -n "$ns" get cm ssa -o jsonpath='{.data.color}')" = blue ] || fail "$c: the preview identity changed an object"
  expect_fail "$c: preview real create stored" "${ka[@]}" -n "$ns" get configmap prev-real
  expect_fail "$c: preview namespace stored" "${ka[@]}" get namespace "prev-$RUN_ID"

  # ResourceQuota admission: with the quota's status set as the (absent) quota controller would,
  # a create beyond the quota is rejected by the API server.
  expect_ok "$c: create quota" "${ka[@]}" -n "$ns" create quota q --hard=configmaps=2
  expect_ok "$c: set quota status" "${ka[@]}" -n "$ns" patch resourcequota q --subresource=status --type=merge \
    -p '{"status":{"hard":{"configmaps":"2"},"used":{"configmaps":"2"}}}'
  expect_fail "$c: create over quota" "${ka[@]}" -n "$ns" create configmap over --from-literal=a=b
  contains "$OUT" "exceeded quota" "$c: quota admission"

  pass "$c: server-side apply, dry-run, validation, RBAC 403, quota admission, preview identity dry-run only, version v$HELMGATE_TEST_KUBE_VERSION"
done
