#!/usr/bin/env bash
# bench/preview/peers.sh: builds (once) the preview benchmark's peer, flux-local, and the binaries it runs,
# at pinned versions, and prints where they are:
#   kustomize  v5.8.2  Go module proxy (`go install`)           -> bin/kustomize
#   flux       v2.9.5  Go module proxy, built inside a copy of the module (its go.mod has replace
#                      directives, which `go install module@version` refuses; the module zip lacks
#                      cmd/flux/manifests/, which only `flux install/bootstrap` embed: a placeholder
#                      satisfies the go:embed)                 -> bin/flux
#   flux-local 8.4.0   PyPI, in a venv of Python 3.13 (8.x requires >= 3.13; pyenv's 3.13.x, or
#                      python3.13 on PATH, or HELMGATE_PYTHON313)  -> bin/flux-local
# Each lands in $HELMGATE_CACHE/peers/<tool>-<version>-r<recipe>/ with a `.complete` stamp; a finished one is
# never redone until its pin or recipe changes. Go builds run one at a time (one lock for all of them) with
# GOTOOLCHAIN=local; logs in $HELMGATE_CACHE/build/<tool>-<version>-r<recipe>.log.
#
# usage: bench/preview/peers.sh [kustomize|flux|flux-local|all]   (default all)
#   all: prints KUSTOMIZE=<path> FLUX=<path> FLUX_LOCAL=<path>, one a line.
#   one tool: prints its path.
# When a peer cannot be installed, exits 3 and prints on stdout one line `NOT_RUNNABLE: <reason>` (for the
# bench's table); other failures exit 1 with the log tail on stderr.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$HELMGATE_ROOT/scripts/lib/peers.sh"

KUSTOMIZE_VERSION=${HELMGATE_KUSTOMIZE_VERSION:-v5.8.2} # v5.8.3 needs go >= 1.27
FLUX_MODULE=github.com/fluxcd/flux2/v2
FLUX_VERSION=${HELMGATE_FLUX_VERSION:-v2.9.5}
FLUX_LOCAL_VERSION=${HELMGATE_FLUX_LOCAL_VERSION:-8.4.0}
PREVIEW_PEERS_RECIPE=1

peer_dir() { echo "$HELMGATE_CACHE/peers/$1-$2-r$PREVIEW_PEERS_RECIPE"; }

not_runnable() { echo "NOT_RUNNABLE: $*"; exit 3; }

_build_kustomize() { # dir
  local dir=$1 t0=$SECONDS
  mkdir -p "$dir/bin"
  GOBIN=$dir/bin CGO_ENABLED=0 nice -n 10 go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  echo "kustomize compiled in $((SECONDS - t0))s"
  "$dir/bin/kustomize" version
}

_build_flux() { # dir
  local dir=$1 t0=$SECONDS w=$HELMGATE_CACHE/build/flux-$FLUX_VERSION src
  src=$(_go_mod_field "$FLUX_MODULE@$FLUX_VERSION" Dir)
  rm -rf "$w"; mkdir -p "$(dirname "$w")" "$dir/bin"
  cp -r "$src" "$w"
  chmod -R u+w "$w"
  if ! ls "$w"/cmd/flux/manifests/*.yaml >/dev/null 2>&1; then
    mkdir -p "$w/cmd/flux/manifests"
    echo '# placeholder: the module zip has no manifests; flux install/bootstrap are not used by the bench' \
      >"$w/cmd/flux/manifests/placeholder.yaml"
  fi
  (cd "$w" && CGO_ENABLED=0 nice -n 10 go build -trimpath -pgo=off \
    -ldflags "-s -w -X main.VERSION=${FLUX_VERSION#v}" -o "$dir/bin/flux" ./cmd/flux)
  echo "flux compiled in $((SECONDS - t0))s"
  "$dir/bin/flux" version --client
  rm -rf "$w"
}

# Python 3.13 for flux-local 8.x: HELMGATE_PYTHON313, else pyenv's newest 3.13.x, else python3.13 on PATH.
find_python313() {
  if [ -n "${HELMGATE_PYTHON313:-}" ]; then echo "$HELMGATE_PYTHON313"; return; fi
  local root="" p
  if command -v pyenv >/dev/null; then root=$(pyenv root 2>/dev/null || true); fi
  [ -n "$root" ] || root=${PYENV_ROOT:-$HOME/.pyenv}
  for p in $(ls -d "$root"/versions/3.13.* 2>/dev/null | sort -V -r); do
    [ -x "$p/bin/python3" ] && { echo "$p/bin/python3"; return; }
  done
  command -v python3.13 || true
}

_build_flux_local() { # dir python
  local dir=$1 py=$2 t0=$SECONDS
  "$py" -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --disable-pip-version-check -q "flux-local==$FLUX_LOCAL_VERSION"
  mkdir -p "$dir/bin"
  ln -s ../venv/bin/flux-local "$dir/bin/flux-local"
  "$dir/bin/flux-local" --help >/dev/null
  "$dir/venv/bin/pip" freeze >"$dir/requirements.lock"
  echo "flux-local installed in $((SECONDS - t0))s with $("$py" --version)"
}

# ensure <tool> <version> <build_fn> [args]: builds under the tool's lock (and, for Go, the one Go lock).
ensure() {
  local tool=$1 ver=$2 fn=$3; shift 3
  local peer; peer=$(peer_dir "$tool" "$ver")
  if [ ! -f "$peer/.complete" ]; then
    mkdir -p "$HELMGATE_CACHE/locks" "$HELMGATE_CACHE/build"
    local logf=$HELMGATE_CACHE/build/$(basename "$peer").log lockfd gofd="" rc=0
    exec {lockfd}>"$HELMGATE_CACHE/locks/$(basename "$peer").lock"
    flock "$lockfd"
    if [ ! -f "$peer/.complete" ]; then
      if [ "$tool" != flux-local ]; then exec {gofd}>"$HELMGATE_CACHE/locks/go-build.lock"; flock "$gofd"; fi
      log "installing $tool $ver (log: $logf)"
      local t0=$SECONDS
      # A fresh bash process keeps errexit in force for every step of the build function.
      # Built in place (a venv cannot be moved); the `.complete` stamp, written last, marks it usable.
      rm -rf "$peer"
      bash "$0" __build "$fn" "$peer" "$@" >"$logf" 2>&1 </dev/null || rc=$?
      [ -n "$gofd" ] && exec {gofd}>&-
      if [ $rc -ne 0 ] || [ ! -f "$peer/.complete" ]; then
        tail -n 30 "$logf" | sed 's/^/    /' >&2
        die "installing $tool $ver failed (exit $rc; log: $logf)"
      fi
      log "$tool $ver installed in $((SECONDS - t0))s"
    fi
    exec {lockfd}>&-
  fi
  [ -x "$peer/bin/$tool" ] || die "$peer is marked complete but lacks bin/$tool; remove it to reinstall"
  echo "$peer/bin/$tool"
}

ensure_flux_local() {
  local peer py; peer=$(peer_dir flux-local "$FLUX_LOCAL_VERSION")
  if [ ! -f "$peer/.complete" ]; then
    py=$(find_python313)
    [ -n "$py" ] || not_runnable "flux-local $FLUX_LOCAL_VERSION needs Python >= 3.13; none found (pyenv versions 3.13.*, python3.13 on PATH, HELMGATE_PYTHON313)"
    "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' ||
      not_runnable "flux-local $FLUX_LOCAL_VERSION needs Python >= 3.13; $py is $("$py" --version 2>&1)"
    "$py" -c 'import venv, ensurepip' 2>/dev/null || not_runnable "$py lacks venv/ensurepip (cannot make a venv for flux-local)"
  fi
  ensure flux-local "$FLUX_LOCAL_VERSION" _build_flux_local "${py:-}"
}

export HELMGATE_CACHE HELMGATE_KUSTOMIZE_VERSION=$KUSTOMIZE_VERSION HELMGATE_FLUX_VERSION=$FLUX_VERSION \
  HELMGATE_FLUX_LOCAL_VERSION=$FLUX_LOCAL_VERSION

what=${1:-all}
case "$what" in
  __build) # internal: __build <fn> <dir> [args]
    shift; peers_go_env; fn=$1; shift; "$fn" "$@"; touch "$1/.complete" ;;
  kustomize) ensure kustomize "$KUSTOMIZE_VERSION" _build_kustomize ;;
  flux) ensure flux "$FLUX_VERSION" _build_flux ;;
  flux-local) ensure_flux_local ;;
  all)
    command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || not_runnable "go is not installed (needed to build kustomize and flux)"
    rc=0; fl=$(ensure_flux_local) || rc=$?
    if [ $rc -ne 0 ]; then [ $rc -eq 3 ] && echo "$fl"; exit $rc; fi
    k=$(ensure kustomize "$KUSTOMIZE_VERSION" _build_kustomize)
    f=$(ensure flux "$FLUX_VERSION" _build_flux)
    printf 'KUSTOMIZE=%s\nFLUX=%s\nFLUX_LOCAL=%s\n' "$k" "$f" "$fl"
    ;;
  -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown argument $what (see --help)" ;;
esac
