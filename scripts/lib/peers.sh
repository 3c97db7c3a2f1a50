# Builds the Go-based test servers (kube-apiserver, etcd, Gitea) from the Go module proxy at pinned
# versions. Sourced after common.sh, never executed.
#
# Each server is built in a small wrapper module under $HELMGATE_CACHE/build/<name>-<version>, because the
# upstream modules cannot be `go install`ed (k8s.io/kubernetes requires its staging modules at the
# non-existent v0.0.0; etcd's and Gitea's go.mod carry replace directives). The binaries land in
# $HELMGATE_CACHE/peers/<name>-<version>-r<recipe>/bin with a `.complete` stamp; a finished build is never
# redone until a pin (or PEERS_RECIPE) changes. Concurrent callers serialize on a flock per build.

# Pins. Kubernetes: the newest v1.35.x that the module proxy serves (v1.35.7/.9/.10 answer 403).
KUBE_VERSION=${HELMGATE_KUBE_VERSION:-v1.35.8}
# etcd is not pinned separately: it is the go.etcd.io/etcd/server/v3 version k8s.io/apiserver requires.
GITEA_MODULE=code.gitea.io/gitea # becomes gitea.dev at v1.27
GITEA_VERSION=${HELMGATE_GITEA_VERSION:-v1.26.4}
# Bump when the build recipe below changes in a way that must rebuild cached binaries.
PEERS_RECIPE=1

# Go environment for every build: local toolchain only, caches in stable paths outside the repo.
peers_go_env() {
  export GOTOOLCHAIN=local
  export GOMODCACHE=$HELMGATE_CACHE/go/mod
  export GOCACHE=$HELMGATE_CACHE/go/build
  export GOPATH=$HELMGATE_CACHE/go/path
  export GOFLAGS=-mod=mod
  command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || die "go is not installed (expected /usr/local/go/bin/go)"
}

kube_peer_dir()  { echo "$HELMGATE_CACHE/peers/kube-$KUBE_VERSION-r$PEERS_RECIPE"; }
gitea_peer_dir() { echo "$HELMGATE_CACHE/peers/gitea-$GITEA_VERSION-r$PEERS_RECIPE"; }

# Prints GoMod/Dir/... of a module version as one field.
_go_mod_field() { # module@version field
  go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin)
if d.get("Error"): sys.exit("go mod download: " + d["Error"])
print(d[sys.argv[1]])' "$2"
}

PEERS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Runs a build function under a lock, logging to $HELMGATE_CACHE/build/<peer>.log; on failure exits 1 after
# printing the log tail. The build runs in a fresh bash process: errexit is then in force for every step,
# whatever context the caller is in (bash ignores `set -e` inside anything called from `if`, `&&` or `||`).
_peers_locked_build() { # name peer_dir build_fn
  local name=$1 peer=$2 fn=$3
  mkdir -p "$HELMGATE_CACHE/locks" "$HELMGATE_CACHE/build"
  local logf; logf="$HELMGATE_CACHE/build/$(basename "$peer").log"
  local lockf; lockf="$HELMGATE_CACHE/locks/$(basename "$peer").lock"
  local lockfd
  exec {lockfd}>"$lockf"
  flock "$lockfd"
  if [ ! -f "$peer/.complete" ]; then
    log "building $name ($(basename "$peer")); log: $logf"
    local t0=$SECONDS rc=0
    HELMGATE_CACHE=$HELMGATE_CACHE HELMGATE_KUBE_VERSION=$KUBE_VERSION HELMGATE_GITEA_VERSION=$GITEA_VERSION \
      bash -c 'set -euo pipefail; . "$1/common.sh"; . "$1/peers.sh"; peers_go_env; "$2" "$3"' \
      peers-build "$PEERS_LIB_DIR" "$fn" "$peer" >"$logf" 2>&1 </dev/null || rc=$?
    if [ $rc -ne 0 ] || [ ! -f "$peer/.complete" ]; then
      exec {lockfd}>&-
      printf '[%s] error: building %s failed (exit %s); last lines of %s:\n' "$(basename "$0")" "$name" "$rc" "$logf" >&2
      tail -n 30 "$logf" | sed 's/^/    /' >&2
      exit 1
    fi
    echo "built in $((SECONDS - t0))s" >>"$logf"
    log "$name built in $((SECONDS - t0))s"
  fi
  exec {lockfd}>&-
}

# --- kube-apiserver + etcd --------------------------------------------------------------------------

_build_kube() { # peer_dir
  local peer=$1 kver=$KUBE_VERSION
  local sver=v0.${kver#v1.} minor; minor=$(echo "$kver" | cut -d. -f2)
  local w=$HELMGATE_CACHE/build/kube-$kver
  rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init example.invalid/helmgate-kubepeer
  # Every "k8s.io/* v0.0.0" requirement of k8s.io/kubernetes becomes a replace to the published staging version.
  local kgomod; kgomod=$(_go_mod_field "k8s.io/kubernetes@$kver" GoMod)
  go mod edit -json "$kgomod" >k8s-gomod.json
  local args kgo
  args=$(python3 - "$sver" <<'PY'
import json, sys
m, sv = json.load(open("k8s-gomod.json")), sys.argv[1]
print(" ".join("-replace=%s=%s@%s" % (r["Path"], r["Path"], sv) for r in m["Require"]
               if r["Path"].startswith("k8s.io/") and r["Version"] == "v0.0.0"))
PY
)
  [ -n "$args" ] || { echo "no v0.0.0 staging requirements found in k8s.io/kubernetes@$kver go.mod"; return 1; }
  kgo=$(python3 -c 'import json;print(json.load(open("k8s-gomod.json"))["Go"])')
  # shellcheck disable=SC2086
  go mod edit -go="$kgo" -require="k8s.io/kubernetes@$kver" $args
  cat >tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
EOF
  nice -n 10 go mod tidy
  local etcd_ver; etcd_ver=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
  echo "etcd from the module graph: $etcd_ver"
  local ldf="-s -w" kv
  for kv in "gitVersion=$kver" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
            "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    ldf="$ldf -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  local tmp=$peer.tmp; rm -rf "$tmp"; mkdir -p "$tmp/bin"
  local t0=$SECONDS
  CGO_ENABLED=0 nice -n 10 go build -v -trimpath -pgo=off -tags selinux,notest -ldflags "$ldf" \
    -o "$tmp/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  echo "kube-apiserver compiled in $((SECONDS - t0))s"; t0=$SECONDS
  CGO_ENABLED=0 nice -n 10 go build -v -trimpath -pgo=off -ldflags "-s -w" -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3
  echo "etcd compiled in $((SECONDS - t0))s"
  "$tmp/bin/kube-apiserver" --version
  "$tmp/bin/etcd" --version
  printf 'KUBE_VERSION=%s\nETCD_VERSION=%s\n' "$kver" "$etcd_ver" >"$tmp/versions"
  touch "$tmp/.complete"
  rm -rf "$peer"; mv "$tmp" "$peer"
}

# Builds (once) and prints the directory holding bin/kube-apiserver, bin/etcd and `versions`.
ensure_kube_peer() {
  local peer; peer=$(kube_peer_dir)
  [ -f "$peer/.complete" ] || _peers_locked_build "kube-apiserver+etcd $KUBE_VERSION" "$peer" _build_kube
  [ -x "$peer/bin/kube-apiserver" ] && [ -x "$peer/bin/etcd" ] ||
    die "$peer is marked complete but lacks bin/kube-apiserver or bin/etcd; remove it to rebuild"
  echo "$peer"
}

# --- Gitea ----------------------------------------------------------------------------------------------

_build_gitea() { # peer_dir
  local peer=$1 gm=$GITEA_MODULE gv=$GITEA_VERSION
  local w=$HELMGATE_CACHE/build/gitea-$gv
  rm -rf "$w"; mkdir -p "$w"; cd "$w"
  go mod init example.invalid/helmgate-giteapeer
  local ugomod; ugomod=$(_go_mod_field "$gm@$gv" GoMod)
  go mod edit -json "$ugomod" >upstream-gomod.json
  local ggo; ggo=$(python3 -c 'import json;print(json.load(open("upstream-gomod.json"))["Go"])')
  case "$(go env GOVERSION)" in
    go1.2[6-9]*|go1.[3-9]*) ;;
    *) echo "Gitea $gv needs go $ggo; have $(go env GOVERSION)"; return 1;;
  esac
  # Copy module->module replaces and excludes (replaces in a dependency's go.mod are ignored); skip local paths.
  local args
  args=$(python3 - <<'PY'
import json
m, out = json.load(open("upstream-gomod.json")), []
for r in m.get("Replace") or []:
    new = r["New"]
    if not new.get("Version"):
        continue
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    out.append("-replace=%s=%s@%s" % (old, new["Path"], new["Version"]))
for e in m.get("Exclude") or []:
    out.append("-exclude=%s@%s" % (e["Path"], e["Version"]))
print(" ".join(out))
PY
)
  # shellcheck disable=SC2086
  go mod edit -go="$ggo" -require="$gm@$gv" $args
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$gm" >tools.go
  nice -n 10 go mod tidy
  local tmp=$peer.tmp; rm -rf "$tmp"; mkdir -p "$tmp/bin"
  local t0=$SECONDS
  # sqlite in Gitea 1.26 is mattn/go-sqlite3: cgo plus the sqlite tags, as upstream's TEST_TAGS.
  CGO_ENABLED=1 nice -n 10 go build -v -trimpath -pgo=off -tags 'sqlite sqlite_unlock_notify' \
    -ldflags "-s -w -X main.Version=${gv#v}" -o "$tmp/bin/gitea" "$gm"
  echo "gitea compiled in $((SECONDS - t0))s"
  "$tmp/bin/gitea" --version
  # Templates, options and public files are read from disk (no bindata): the module dir holds them.
  local src; src=$(_go_mod_field "$gm@$gv" Dir)
  [ -d "$src/templates" ] || { echo "no templates/ in $src"; return 1; }
  printf 'GITEA_VERSION=%s\nGITEA_SRC=%s\n' "$gv" "$src" >"$tmp/versions"
  touch "$tmp/.complete"
  rm -rf "$peer"; mv "$tmp" "$peer"
}

# Builds (once) and prints the directory holding bin/gitea and `versions` (GITEA_SRC = static root).
ensure_gitea_peer() {
  local peer; peer=$(gitea_peer_dir)
  [ -f "$peer/.complete" ] || _peers_locked_build "gitea $GITEA_VERSION" "$peer" _build_gitea
  [ -x "$peer/bin/gitea" ] || die "$peer is marked complete but lacks bin/gitea; remove it to rebuild"
  # The static root lives in GOMODCACHE; if someone cleaned it, fetch it again.
  local src; src=$(sed -n 's/^GITEA_SRC=//p' "$peer/versions")
  if [ ! -d "$src/templates" ]; then
    (peers_go_env; _go_mod_field "$GITEA_MODULE@$GITEA_VERSION" Dir >/dev/null) ||
      die "cannot fetch $GITEA_MODULE@$GITEA_VERSION sources (templates for Gitea)"
  fi
  echo "$peer"
}
