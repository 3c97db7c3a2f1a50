#!/usr/bin/env bash
# The status page in a real browser: `helmgate serve` over a Redis seeded with the fleet fixtures
# (tests/redis/http/fixtures/fleet/, the engine writers' JSON), headless Chromium (Debian's package,
# installed by scripts/bootstrap) loads /ui/, a cluster page, a release page and the jobs page at a phone's
# width; the test asserts the rendered DOM (clusters, versions, the drifted release, the escaped markup),
# that the console shows no error (a CSP refusal of the inline style or script is one), and keeps the
# screenshots in build/test-artifacts/ui/; then presses the replay button by keyboard (ui_replay_cdp.py) and
# checks that the job was replayed and the API token was stored nowhere.
set -euo pipefail
HG=${HELMGATE_BINARY_DIR:?}/helmgate
SRC=${HELMGATE_SOURCE_DIR:?}
FIX=$SRC/tests/redis/http/fixtures/fleet
ART=$HELMGATE_BINARY_DIR/test-artifacts/ui
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "FAIL: chromium is not installed (scripts/bootstrap installs Debian's package)" >&2; exit 1; }
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$ART"

RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --dir "$T" --save '' --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
for c in dev staging prod; do
  for kind in drift inventory; do
    # As queue::FleetStore::put writes them: field <cluster> the JSON, <cluster>@at the time stored.
    redis-cli -p "$RP" -x HSET "{helmgate}:fleet:$kind" "$c" <"$FIX/$c.$kind.json" >/dev/null
    redis-cli -p "$RP" HSET "{helmgate}:fleet:$kind" "$c@at" 1796205601000 >/dev/null
  done
done

cat >"$T/hg.yaml" <<YAML
server: {listen: "127.0.0.1:0", shutdown_grace: 5s}
redis: {url: "redis://127.0.0.1:$RP/0"}
api: {token_env: UI_TEST_API_TOKEN}
forges: [{name: github, kind: github, webhook_secret_env: UI_TEST_WEBHOOK_SECRET}]
ui: {auth: token, read_token_env: UI_TEST_READ_TOKEN}
YAML
export UI_TEST_API_TOKEN="api-$RANDOM$RANDOM" UI_TEST_READ_TOKEN="read-$RANDOM$RANDOM" UI_TEST_WEBHOOK_SECRET="wh-$RANDOM"
"$HG" serve --config "$T/hg.yaml" >"$T/serve.out" 2>"$T/serve.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/serve.out")
[ -n "$HP" ] || fail "serve did not print its port: $(cat "$T/serve.log")"
BASE="http://127.0.0.1:$HP"

# One job for the jobs page: a signed pull_request delivery.
SHARED=${HELMGATE_SHARED_DIR:-$SRC/../shared}
BODY=$SHARED/corpora/github-webhooks/octokit/pull_request/opened.payload.json
SIG="sha256=$(openssl dgst -sha256 -hmac "$UI_TEST_WEBHOOK_SECRET" -hex <"$BODY" | sed 's/^.* //')"
resp=$(curl -sS -w ' %{http_code}' -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' \
  -H 'X-GitHub-Delivery: ui-1' -H "X-Hub-Signature-256: $SIG" --data-binary @"$BODY" "$BASE/webhooks/github")
[ "${resp##* }" = 202 ] || fail "delivery answered $resp"
JOB=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1].rsplit(" ",1)[0])["jobs"][0])' "$resp")

# A worker runs it to its end (dead: the forge has no token to post with), so it can be replayed.
"$HG" worker --config "$T/hg.yaml" 2>"$T/worker.log" &
WORKER=$!; PIDS+=($WORKER)
for _ in $(seq 200); do
  curl -sS -H "Authorization: Bearer $UI_TEST_API_TOKEN" "$BASE/api/v1/jobs/$JOB" | grep -q '"state":"dead"' && break
  sleep 0.1
done
curl -sS -H "Authorization: Bearer $UI_TEST_API_TOKEN" "$BASE/api/v1/jobs/$JOB" | grep -q '"state":"dead"' ||
  fail "job $JOB did not end: $(tail -5 "$T/worker.log")"
kill -TERM "$WORKER"; wait "$WORKER" || true

# Without credentials: 401 asking for Basic auth (the browser's prompt).
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ui/")
[ "$code" = 401 ] || fail "/ui/ without credentials answered $code"

# browse NAME PATH: the DOM after scripts ran, the console, a screenshot at 390x844 (a phone).
browse() {
  local name=$1 path=$2
  local url="http://reader:$UI_TEST_READ_TOKEN@127.0.0.1:$HP$path"
  local common=(--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --disable-sync
                --disable-background-networking --user-data-dir="$T/profile-$name" --window-size=390,844
                --hide-scrollbars --virtual-time-budget=3000 --enable-logging=stderr --v=0)
  timeout 60 "$CHROMIUM" "${common[@]}" --dump-dom "$url" >"$T/$name.html" 2>"$T/$name.console" ||
    fail "chromium --dump-dom $path failed: $(tail -5 "$T/$name.console")"
  timeout 60 "$CHROMIUM" "${common[@]}" --screenshot="$ART/$name.png" "$url" >/dev/null 2>>"$T/$name.console" ||
    fail "chromium --screenshot $path failed: $(tail -5 "$T/$name.console")"
  [ -s "$ART/$name.png" ] || fail "no screenshot of $path"
  # Console messages: "CONSOLE(...)" lines; a CSP refusal reads "Refused to ...".
  if grep -E 'CONSOLE|Refused to|Uncaught' "$T/$name.console" >"$T/$name.errors"; then
    fail "console of $path: $(cat "$T/$name.errors")"
  fi
  cp "$T/$name.html" "$ART/$name.dom.html"
}
has() { grep -qF -- "$2" "$T/$1.html" || fail "$1: the DOM lacks: $2"; }
hasnt() { ! grep -qF -- "$2" "$T/$1.html" || fail "$1: the DOM has: $2"; }

browse fleet /ui/
has fleet '<h1>Fleet</h1>'
for c in dev staging prod; do has fleet ">$c</a></th>"; done
has fleet 'v1.31.2</td>'
has fleet 'v1.31.2"x\y'
has fleet '<span class="badge s-drifted">drifted</span> <span class="muted">6.4.0</span>'
has fleet '<span class="badge s-no">unreachable</span>'
has fleet '&lt;script&gt;alert(1)&lt;/script&gt;'
has fleet 'declared for every cluster but missing on staging'
hasnt fleet '<script>alert'

browse cluster /ui/clusters/prod
has cluster '<h1>Cluster prod</h1>'
has cluster 'NotReady'
has cluster 'KubeletNotReady: PLEG is not healthy &lt;b&gt;'
has cluster 'Deployment apps/podinfo'

browse release /ui/clusters/prod/releases/apps/podinfo
has release 'Release apps/podinfo on prod'
has release "image: &lt;script&gt;alert('diff')&lt;/script&gt;"
hasnt release '<script>alert'

browse jobs /ui/jobs
has jobs '<label for="api-token">API token</label>'
has jobs "data-replay=\"$JOB\" aria-label=\"Replay job $JOB\">Replay</button>"
has jobs 'Codertocat/Hello-World #2'
has jobs '<td>dead</td>'

# The replay button, in the browser, by keyboard: type the API token, press Enter on "Replay job N".
python3 "$SRC/tests/redis/http/ui_replay_cdp.py" "$CHROMIUM" "http://reader:$UI_TEST_READ_TOKEN@127.0.0.1:$HP/ui/jobs" \
  "$UI_TEST_API_TOKEN" "$JOB" "$T/profile-replay" >"$T/replay.json" || fail "the replay click did not run"
python3 - "$T/replay.json" "$JOB" "$UI_TEST_API_TOKEN" <<'PY' || fail "replay in the browser: $(cat "$T/replay.json")"
import json, re, sys
r = json.load(open(sys.argv[1])); job = sys.argv[2]; token = sys.argv[3]
assert re.fullmatch(r"Job %s replayed as job \S+\." % re.escape(job), r["status"]), r["status"]
assert r["console"] == [] and r["exceptions"] == [], (r["console"], r["exceptions"])
assert r["stored"]["local"] == 0 and r["stored"]["session"] == 0 and r["stored"]["cookie"] == "", r["stored"]
assert token not in r["stored"]["url"], "the API token reached the URL"
PY
NEW=$(python3 -c 'import json,re,sys; print(re.search(r"as job (\S+)\.", json.load(open(sys.argv[1]))["status"]).group(1))' "$T/replay.json")
curl -sS -H "Authorization: Bearer $UI_TEST_API_TOKEN" "$BASE/api/v1/jobs/$NEW" | grep -q "\"replay_of\":\"$JOB\"" ||
  fail "job $NEW is not a replay of $JOB"

! grep -qF -e "$UI_TEST_READ_TOKEN" -e "$UI_TEST_API_TOKEN" "$T/serve.log" "$T/worker.log" || fail "a token appears in a log"

echo "ok: status page rendered in Chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}'); screenshots in $ART"
