#!/usr/bin/env bash
# bench/apply/helmfile.sh: builds (once) helmfile at a pinned version from the Go module proxy and prints
# the path of the binary. helmfile's go.mod has replace directives, which `go install module@version`
# refuses, so the build runs inside a writable copy of the module (its own go.mod and go.sum). The result
# is cached under $HELMGATE_CACHE/peers/helmfile-<version>-r<recipe>/bin with a `.complete` stamp, like the
# test servers of scripts/lib/peers.sh; concurrent callers serialize on a flock. Log:
# $HELMGATE_CACHE/build/helmfile-<version>-r<recipe>.log.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$HELMGATE_ROOT/scripts/lib/peers.sh"

HELMFILE_MODULE=github.com/helmfile/helmfile
HELMFILE_VERSION=${HELMGATE_HELMFILE_VERSION:-v1.8.0}
HELMFILE_RECIPE=1
peer=$HELMGATE_CACHE/peers/helmfile-$HELMFILE_VERSION-r$HELMFILE_RECIPE

build() {
  peers_go_env
  local w=$HELMGATE_CACHE/build/helmfile-$HELMFILE_VERSION src tmp=$peer.tmp t0=$SECONDS
  src=$(_go_mod_field "$HELMFILE_MODULE@$HELMFILE_VERSION" Dir)
  rm -rf "$w" "$tmp"
  mkdir -p "$(dirname "$w")" "$tmp/bin"
  cp -r "$src" "$w"
  chmod -R u+w "$w"
  cd "$w"
  local ldf="-s -w -X go.szostok.io/version.version=$HELMFILE_VERSION -X go.szostok.io/version.dirtyBuild=false"
  CGO_ENABLED=0 nice -n 10 go build -trimpath -pgo=off -ldflags "$ldf" -o "$tmp/bin/helmfile" .
  echo "helmfile compiled in $((SECONDS - t0))s"
  "$tmp/bin/helmfile" --version
  touch "$tmp/.complete"
  rm -rf "$peer"
  mv "$tmp" "$peer"
  rm -rf "$w"
}

if [ ! -f "$peer/.complete" ]; then
  mkdir -p "$HELMGATE_CACHE/locks" "$HELMGATE_CACHE/build"
  logf=$HELMGATE_CACHE/build/$(basename "$peer").log
  exec {lockfd}>"$HELMGATE_CACHE/locks/$(basename "$peer").lock"
  flock "$lockfd"
  if [ ! -f "$peer/.complete" ]; then
    log "building helmfile $HELMFILE_VERSION from the Go module proxy (minutes); log: $logf"
    (build) >"$logf" 2>&1 </dev/null || { tail -n 30 "$logf" >&2; die "building helmfile failed (log: $logf)"; }
  fi
  exec {lockfd}>&-
fi
[ -x "$peer/bin/helmfile" ] || die "$peer is marked complete but lacks bin/helmfile; remove it to rebuild"
echo "$peer/bin/helmfile"
