#!/usr/bin/env bash
# deploy/helm/helmgate: lints, renders, its helmgate.yaml passes `helmgate serve --check`, and the
# rendered objects are accepted by a real API server (server-side dry-run).
set -euo pipefail
SRC=${HELMGATE_SOURCE_DIR:?}; HG=${HELMGATE_BINARY_DIR:?}/helmgate
HELM=${HELMGATE_HELM:?run through scripts/test}; KUBECTL=${HELMGATE_KUBECTL:?}
KC=${HELMGATE_TEST_KUBECONFIG_DEV:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$HELM" lint --strict "$SRC/deploy/helm/helmgate" >"$T/lint.txt" 2>&1 || fail "helm lint: $(cat "$T/lint.txt")"
"$HELM" template hg "$SRC/deploy/helm/helmgate" --namespace helmgate-chart-test >"$T/all.yaml"
grep -q "kind: Deployment" "$T/all.yaml" || fail "no Deployment rendered"
[ "$(grep -c '^kind: Deployment' "$T/all.yaml")" = 2 ] || fail "want a serve and a worker Deployment"
# The chart must never carry secret values: only a reference to an existing Secret.
! grep -q '^kind: Secret' "$T/all.yaml" || fail "the chart renders a Secret"
# The render sandbox: the worker gets the seccomp/AppArmor profiles that allow its namespaces; not with
# config.render.sandbox off (Helm reads `off` as false), and serve only when it runs workers.
"$HELM" template hg "$SRC/deploy/helm/helmgate" --show-only templates/deployment-worker.yaml >"$T/w.yaml"
grep -A1 'seccompProfile:' "$T/w.yaml" | grep -q 'type: Unconfined' || fail "worker lacks the sandbox's seccomp profile"
grep -A1 'appArmorProfile:' "$T/w.yaml" | grep -q 'type: Unconfined' || fail "worker lacks the sandbox's AppArmor profile"
for off in off false; do
  "$HELM" template hg "$SRC/deploy/helm/helmgate" --set config.render.sandbox=$off --show-only templates/deployment-worker.yaml |
    grep -q seccompProfile && fail "render.sandbox: $off still widens the worker's seccomp profile"
done
"$HELM" template hg "$SRC/deploy/helm/helmgate" --show-only templates/deployment-serve.yaml | grep -q seccompProfile &&
  fail "serve without workers got the sandbox profiles"
"$HELM" template hg "$SRC/deploy/helm/helmgate" --set config.workers=1 --show-only templates/deployment-serve.yaml |
  grep -q seccompProfile || fail "serve with in-process workers lacks the sandbox profiles"

# The embedded configuration is valid for the binary it ships.
"$HELM" template hg "$SRC/deploy/helm/helmgate" --show-only templates/configmap.yaml >"$T/cm.yaml"
python3 - "$T/cm.yaml" "$T/helmgate.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
body = text.split("helmgate.yaml: |", 1)[1]
lines = [l[4:] if l.startswith("    ") else l for l in body.splitlines()[1:]]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
out=$(GITHUB_WEBHOOK_SECRET=x HELMGATE_API_TOKEN=y "$HG" serve --config "$T/helmgate.yaml" --check) ||
  fail "rendered config rejected: $out"
grep -q "configuration OK" <<<"$out" || fail "unexpected: $out"

# A real API server accepts every rendered object.
"$KUBECTL" --kubeconfig "$KC" create namespace helmgate-chart-test --dry-run=server -o name >/dev/null
"$KUBECTL" --kubeconfig "$KC" get namespace helmgate-chart-test >/dev/null 2>&1 ||
  "$KUBECTL" --kubeconfig "$KC" create namespace helmgate-chart-test >/dev/null
"$KUBECTL" --kubeconfig "$KC" apply --server-side --dry-run=server -n helmgate-chart-test -f "$T/all.yaml" >"$T/apply.txt" 2>&1 ||
  fail "server-side dry-run rejected the chart: $(cat "$T/apply.txt")"
[ "$(grep -c 'serverside-applied (server dry run)' "$T/apply.txt")" -ge 4 ] || fail "$(cat "$T/apply.txt")"
echo "deploy chart: all checks passed"
