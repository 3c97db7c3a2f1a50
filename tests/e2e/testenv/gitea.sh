# Gitea: the seeded gitops/fleet repository (LICENSE kept); a push delivers a webhook signed with the hook's
# secret to a listener on loopback; a comment created through the API reads back (and edits in place).
. "$(dirname "$0")/lib.sh"
require_env HELMGATE_TEST_GITEA_URL HELMGATE_TEST_GITEA_TOKEN HELMGATE_TEST_GITEA_USER HELMGATE_TEST_GITEA_PASSWORD
G=$HELMGATE_TEST_GITEA_URL API=$G/api/v1 REPO=${HELMGATE_TEST_GITEA_REPO:-gitops/fleet}
WORK=$(mktemp -d)
LISTENER_PID=""
cleanup() { [ -z "$LISTENER_PID" ] || kill "$LISTENER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

api() { # method path [json]
  local args=(-sS -f -X "$1" -H "Authorization: token $HELMGATE_TEST_GITEA_TOKEN" -H 'Accept: application/json')
  [ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$API$2"
}
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }

# The token authenticates as the documented user; the password works too (basic auth).
[ "$(api GET /user | json 'd["login"]')" = "$HELMGATE_TEST_GITEA_USER" ] || fail "token does not belong to $HELMGATE_TEST_GITEA_USER"
curl -fsS -u "$HELMGATE_TEST_GITEA_USER:$HELMGATE_TEST_GITEA_PASSWORD" "$API/user" >/dev/null || fail "password login failed"

# Seeded repository: default branch main, the corpus' LICENSE and releases present.
[ "$(api GET "/repos/$REPO" | json 'd["default_branch"]')" = main ] || fail "$REPO default branch is not main"
api GET "/repos/$REPO/contents/LICENSE" >/dev/null || fail "$REPO has no LICENSE"
api GET "/repos/$REPO/contents/releases" | json 'len(d)' | grep -qv '^0$' || fail "$REPO has no releases/"

# Webhook listener: records the raw body and headers of every delivery.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/deliveries"
python3 - "$port" "$WORK/deliveries" >"$WORK/listener.log" 2>&1 <<'PY' &
import http.server, json, os, sys, itertools
port, out = int(sys.argv[1]), sys.argv[2]
counter = itertools.count()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        n = next(counter)
        with open(os.path.join(out, "%03d.body" % n), "wb") as f: f.write(body)
        with open(os.path.join(out, "%03d.headers.tmp" % n), "w") as f:
            json.dump({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}, f)
        os.rename(os.path.join(out, "%03d.headers.tmp" % n), os.path.join(out, "%03d.headers" % n))
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
LISTENER_PID=$!

secret=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
hook=$(api POST "/repos/$REPO/hooks" "{\"type\":\"gitea\",\"active\":true,\"events\":[\"push\"],
  \"config\":{\"url\":\"http://127.0.0.1:$port/hook\",\"content_type\":\"json\",\"secret\":\"$secret\"}}") ||
  fail "creating the webhook failed"
hook_id=$(json 'd["id"]' <<<"$hook")

# Push a commit over HTTP with the token.
git clone -q "http://$HELMGATE_TEST_GITEA_USER:$HELMGATE_TEST_GITEA_TOKEN@${G#http://}/$REPO.git" "$WORK/clone" ||
  fail "git clone failed"
(
  cd "$WORK/clone" &&
  [ -f LICENSE ] &&
  echo "run $RUN_ID" >"e2e-$RUN_ID.txt" &&
  git add . && git -c user.name=e2e -c user.email=e2e@example.invalid commit -q -m "e2e push $RUN_ID" &&
  git push -q origin main 2>"$WORK/push.log"
) || fail "commit/push failed: $(cat "$WORK/push.log" 2>/dev/null)"
sha=$(git -C "$WORK/clone" rev-parse HEAD)

# Wait for the push delivery.
found=""
for _ in $(seq 1 150); do
  for h in "$WORK"/deliveries/*.headers; do
    [ -e "$h" ] || continue
    if python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); sys.exit(h.get("x-gitea-event")!="push")' "$h"; then
      found=$h; break 2
    fi
  done
  sleep 0.2
done
[ -n "$found" ] || fail "no push webhook delivered within 30s (listener log: $(cat "$WORK/listener.log"))"
body=${found%.headers}.body

# Signature: HMAC-SHA256 of the raw body with the hook secret, as X-Gitea-Signature (hex) and
# X-Hub-Signature-256 (sha256=hex). A wrong secret must not verify.
python3 - "$found" "$body" "$secret" "$sha" "$REPO" <<'PY' || fail "webhook verification failed"
import hashlib, hmac, json, sys
headers, body = json.load(open(sys.argv[1])), open(sys.argv[2], "rb").read()
secret, sha, repo = sys.argv[3].encode(), sys.argv[4], sys.argv[5]
mac = hmac.new(secret, body, hashlib.sha256).hexdigest()
wrong = hmac.new(secret + b"x", body, hashlib.sha256).hexdigest()
def check(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)
check(headers.get("x-gitea-signature") == mac, "X-Gitea-Signature %r != %r" % (headers.get("x-gitea-signature"), mac))
check(headers.get("x-hub-signature-256") == "sha256=" + mac, "X-Hub-Signature-256 mismatch")
check(not hmac.compare_digest(headers["x-gitea-signature"], wrong), "a wrong secret verified")
check(headers.get("x-github-event") == "push", "X-GitHub-Event is not push")
check(headers.get("x-gitea-delivery"), "no X-Gitea-Delivery")
check(headers.get("path") == "/hook", "delivered to %r" % headers.get("path"))
p = json.loads(body)
check(p["ref"] == "refs/heads/main", "ref %r" % p["ref"])
check(p["after"] == sha, "after %r, pushed %r" % (p["after"], sha))
check(p["repository"]["full_name"] == repo, "repository %r" % p["repository"]["full_name"])
PY
pass "push webhook delivered and signed (X-Gitea-Signature, X-Hub-Signature-256)"
api DELETE "/repos/$REPO/hooks/$hook_id" >/dev/null || fail "deleting the webhook failed"

# Comments: create an issue, comment, read back, edit in place, read back.
issue=$(api POST "/repos/$REPO/issues" "{\"title\":\"e2e $RUN_ID\",\"body\":\"testenv\"}" | json 'd["number"]') ||
  fail "creating an issue failed"
text="preview <!-- helmgate:$RUN_ID --> ünïcode"
cid=$(api POST "/repos/$REPO/issues/$issue/comments" "$(python3 -c 'import json,sys; print(json.dumps({"body": sys.argv[1]}))' "$text")" |
  json 'd["id"]') || fail "creating a comment failed"
got=$(api GET "/repos/$REPO/issues/$issue/comments" | json '[c["body"] for c in d if c["id"] == '"$cid"'][0]')
[ "$got" = "$text" ] || fail "comment read back as '$got', expected '$text'"
api PATCH "/repos/$REPO/issues/comments/$cid" '{"body":"edited"}' >/dev/null || fail "editing the comment failed"
got=$(api GET "/repos/$REPO/issues/comments/$cid" | json 'd["body"]')
[ "$got" = edited ] || fail "edited comment reads back as '$got'"
n=$(api GET "/repos/$REPO/issues/$issue/comments" | json 'len(d)')
[ "$n" = 1 ] || fail "expected 1 comment after edit, found $n"
pass "comment created, read back, edited in place"
