# Helpers the end-to-end tests of the loop share, for a Gitea repository (sourced after `set -euo pipefail`):
#   . "$(dirname "$0")/../../support/gitea_api.sh"
# Needs T (the test's directory, holding gitea.hdr: the owner's token as a header line, mode 0600), GITEA,
# OWNER and REPO. The token goes in a header file only, never on a command line that could be printed.
#   api METHOD PATH [BODY]          Gitea's API as the repository owner (fails on an HTTP error)
#   json EXPR                       a Python expression over the JSON on stdin, `d` being the document
#   comments PR                     the PR's comments (JSON)
#   preview_comments PR             one line per helmgate preview part: id, then the body on one line
#                                   (its first PREVIEW_WIDTH characters, default 2000)
#   wait_for SECS PATTERN CMD...    runs CMD until a line of its output matches; prints that line
#   gitea_publish                   creates OWNER/REPO (public, default branch main) and pushes main of the
#                                   test's git_ repository to CLONE_URL; the push's password comes from a
#                                   credential helper reading the environment, never a URL or a command line

api() {
  local method=$1 path=$2 body=${3:-}
  curl -sS -f --max-time 20 -X "$method" -H @"$T/gitea.hdr" -H 'Content-Type: application/json' \
    ${body:+--data "$body"} "$GITEA/api/v1$path"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
comments() { api GET "/repos/$OWNER/$REPO/issues/$1/comments?limit=50"; }
preview_comments() {
  comments "$1" | python3 -c '
import json,sys
width = int(sys.argv[1])
for c in json.load(sys.stdin):
    if "helmgate:preview:preview part" in c["body"]: print(c["id"], c["body"].replace("\n"," ")[:width])' \
    "${PREVIEW_WIDTH:-2000}"
}
wait_for() {
  local secs=$1 pattern=$2; shift 2
  local deadline=$(( $(date +%s) + secs )) out
  while [ "$(date +%s)" -lt "$deadline" ]; do
    out=$("$@" 2>/dev/null || true)
    if grep -q -- "$pattern" <<<"$out"; then grep -- "$pattern" <<<"$out" | head -n1; return 0; fi
    sleep 0.2
  done
  return 1
}

gitea_publish() {
  api POST /user/repos "{\"name\":\"$REPO\",\"private\":false,\"default_branch\":\"main\"}" >/dev/null
  export GITEA_PUSH_PASSWORD=$HELMGATE_TEST_GITEA_TOKEN
  git_ config credential.helper "!f() { echo username=$OWNER; echo password=\$GITEA_PUSH_PASSWORD; }; f"
  git_ remote add origin "$CLONE_URL"
  git_ push -q origin main
}
