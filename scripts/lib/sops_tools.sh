# Builds the SOPS test tools from the Go module proxy at pinned versions: the real `sops`
# (github.com/getsops/sops/v3) and `age`/`age-keygen` (filippo.io/age). Tests make their SOPS fixtures
# with them; product code never runs them. Sourced after common.sh and peers.sh, never executed.
#
# The binaries land in $HELMGATE_CACHE/tools/sops-<sops version>-age-<age version>-r<recipe>/bin with a
# `.complete` stamp; a finished build is never redone until a pin (or SOPS_TOOLS_RECIPE) changes.
# Concurrent callers serialize on a flock.

SOPS_VERSION=${HELMGATE_SOPS_VERSION:-v3.13.3}
AGE_VERSION=${HELMGATE_AGE_VERSION:-v1.3.2}
SOPS_TOOLS_RECIPE=1

sops_tools_dir() { echo "$HELMGATE_CACHE/tools/sops-$SOPS_VERSION-age-$AGE_VERSION-r$SOPS_TOOLS_RECIPE"; }

# Both modules install with `go install module/cmd@version` (no replace directives in their go.mod).
_build_sops_tools() { # dir
  local dir=$1 tmp=$1.tmp
  rm -rf "$tmp"; mkdir -p "$tmp/bin"
  local t0=$SECONDS
  GOBIN=$tmp/bin CGO_ENABLED=0 nice -n 10 go install -trimpath -ldflags "-s -w" \
    "filippo.io/age/cmd/age@$AGE_VERSION" "filippo.io/age/cmd/age-keygen@$AGE_VERSION"
  echo "age compiled in $((SECONDS - t0))s"; t0=$SECONDS
  GOBIN=$tmp/bin CGO_ENABLED=0 nice -n 10 go install -trimpath -ldflags "-s -w" \
    "github.com/getsops/sops/v3/cmd/sops@$SOPS_VERSION"
  echo "sops compiled in $((SECONDS - t0))s"
  "$tmp/bin/sops" --version --disable-version-check
  "$tmp/bin/age" --version
  printf 'SOPS_VERSION=%s\nAGE_VERSION=%s\n' "$SOPS_VERSION" "$AGE_VERSION" >"$tmp/versions"
  touch "$tmp/.complete"
  rm -rf "$dir"; mv "$tmp" "$dir"
}

# Builds (once) and prints the directory holding bin/sops, bin/age and bin/age-keygen.
ensure_sops_tools() {
  local dir; dir=$(sops_tools_dir)
  if [ ! -f "$dir/.complete" ]; then
    mkdir -p "$HELMGATE_CACHE/locks" "$HELMGATE_CACHE/build" "$HELMGATE_CACHE/tools"
    local logf="$HELMGATE_CACHE/build/$(basename "$dir").log" lockfd rc=0
    exec {lockfd}>"$HELMGATE_CACHE/locks/$(basename "$dir").lock"
    flock "$lockfd"
    if [ ! -f "$dir/.complete" ]; then
      log "building sops $SOPS_VERSION and age $AGE_VERSION; log: $logf"
      local t0=$SECONDS
      HELMGATE_CACHE=$HELMGATE_CACHE HELMGATE_SOPS_VERSION=$SOPS_VERSION HELMGATE_AGE_VERSION=$AGE_VERSION \
        bash -c 'set -euo pipefail; . "$1/common.sh"; . "$1/peers.sh"; . "$1/sops_tools.sh"; peers_go_env; _build_sops_tools "$2"' \
        sops-tools-build "$PEERS_LIB_DIR" "$dir" >"$logf" 2>&1 </dev/null || rc=$?
      if [ $rc -ne 0 ] || [ ! -f "$dir/.complete" ]; then
        exec {lockfd}>&-
        printf '[%s] error: building sops/age failed (exit %s); last lines of %s:\n' "$(basename "$0")" "$rc" "$logf" >&2
        tail -n 30 "$logf" | sed 's/^/    /' >&2
        exit 1
      fi
      log "sops and age built in $((SECONDS - t0))s"
    fi
    exec {lockfd}>&-
  fi
  [ -x "$dir/bin/sops" ] && [ -x "$dir/bin/age" ] && [ -x "$dir/bin/age-keygen" ] ||
    die "$dir is marked complete but lacks bin/sops, bin/age or bin/age-keygen; remove it to rebuild"
  echo "$dir"
}
