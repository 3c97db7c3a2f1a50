#!/usr/bin/env bash
# scripts/check-layout on small trees: a clean one passes; each broken rule fails, naming file:line and
# the forbidden edge (or the size and the limit), so a checker that stopped checking cannot pass here.
set -euo pipefail
: "${HELMGATE_SOURCE_DIR:?run through ctest}"
check=$HELMGATE_SOURCE_DIR/scripts/check-layout
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

lines() {  # lines <file> <n>: a file of n lines
  mkdir -p "$(dirname "$1")"
  : >"$1"
  for ((i = 1; i <= $2; ++i)); do echo "// line $i" >>"$1"; done
}
put() {  # put <file> <text...>: a file with these lines
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "${@:2}" >"$1"
}
clean_tree() {  # clean_tree <dir>: a tree that follows every rule, with files at the size limits
  rm -rf "$1"
  mkdir -p "$1/scripts"
  : >"$1/scripts/check-layout.allow"
  put "$1/src/core/error.hpp" '#pragma once' '#include <string>'
  put "$1/src/process/process.hpp" '#pragma once' '#include "core/error.hpp"'
  put "$1/src/apply/helm.hpp" '#pragma once' '#include "process/process.hpp"' '#include "core/error.hpp"'
  put "$1/src/render/renderer.cpp" '#include "render/renderer.hpp"' '#include "process/process.hpp"'
  put "$1/src/runners/apply_runner.cpp" '#include "engine/apply.hpp"' '#include "queue/queue.hpp"' '#include "forge/forge.hpp"'
  put "$1/src/engine/apply.cpp" '#include "apply/helm.hpp"' '#include "core/error.hpp"'
  put "$1/queue/redis.hpp" '#pragma once' '#include <hiredis/hiredis.h>'
  put "$1/queue/queue.cpp" '#include "queue/redis.hpp"'
  put "$1/queue/CMakeLists.txt" 'target_link_libraries(helmgate_queue PUBLIC helmgate_core PkgConfig::HIREDIS)'
  put "$1/handlers/routes.cpp" '#include "queue/queue.hpp"' '#include "config/config.hpp"' '#include "http/router.hpp"'
  put "$1/src/main.cpp" '#include "cmd/commands.hpp"'
  lines "$1/src/core/at_limit.cpp" 500
  lines "$1/src/runners/at_limit.cpp" 250
  lines "$1/queue/lua/at_limit.lua" 500
  put "$1/links.txt" 'helmgate_apply: helmgate_process helmgate_core helmgate_base' \
    'helmgate_queue: helmgate_core PkgConfig::HIREDIS OpenSSL::Crypto' \
    'helmgate: $<TARGET_NAME_IF_EXISTS:helmgate_runners> helmgate_base'
}
expect_pass() {  # expect_pass <what> <dir> [args...]
  local out
  if ! out=$("$check" --root "$2" "${@:3}" 2>&1); then
    echo "FAIL: $1: the checker refused a tree that follows the rules:" >&2
    echo "$out" >&2
    failed=1
  fi
}
expect_fail() {  # expect_fail <what> <dir> <args...> -- <text the output must hold>...
  local what=$1 dir=$2 args=() out rc=0
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  out=$("$check" --root "$dir" "${args[@]}" 2>&1) || rc=$?
  if [ "$rc" -ne 1 ]; then
    echo "FAIL: $what: expected exit 1, got $rc; output:" >&2
    echo "$out" >&2
    failed=1
  fi
  for want in "$@"; do
    if ! grep -qF -- "$want" <<<"$out"; then
      echo "FAIL: $what: the output does not say: $want" >&2
      echo "$out" | sed 's/^/  | /' >&2
      failed=1
    fi
  done
}

t=$work/t
clean_tree "$t"
expect_pass "clean tree" "$t"
expect_pass "clean tree with links" "$t" --links "$t/links.txt"

# Forbidden includes: an upward one and a sideways one, with file:line and the edge.
clean_tree "$t"
put "$t/src/core/up.cpp" '#include "core/error.hpp"' '#include "engine/plan.hpp"'
put "$t/src/apply/helm.cpp" '#include "apply/helm.hpp"' '#include <vector>' '#include "render/process.hpp"'
put "$t/src/render/r.cpp" '#include "apply/helm.hpp"'
put "$t/src/diff/d.cpp" '#include <vector>' '#include <yaml-cpp/yaml.h>' '  #  include <kube/client.hpp>'
expect_fail "forbidden includes" "$t" -- \
  'src/core/up.cpp:2: forbidden dependency core → engine (#include "engine/plan.hpp")' \
  'src/apply/helm.cpp:3: forbidden dependency apply → render (#include "render/process.hpp")' \
  'src/render/r.cpp:1: forbidden dependency render → apply' \
  'src/diff/d.cpp:3: forbidden dependency diff → kube (#include "kube/client.hpp")' \
  'check-layout: 4 problem(s)'

# Includes the rule cannot place.
clean_tree "$t"
put "$t/src/newthing/x.cpp" '#include "core/error.hpp"'
put "$t/src/core/y.cpp" '#include "nowhere/x.hpp"' '#include "local.hpp"'
expect_fail "unknown folders" "$t" -- \
  "src/newthing/x.cpp:1: folder 'newthing' is not in the dependency rule" \
  "src/core/y.cpp:1: #include \"nowhere/x.hpp\": 'nowhere' is not a folder of the dependency rule" \
  'src/core/y.cpp:2: #include "local.hpp" names no folder'

# Redis from one place.
clean_tree "$t"
put "$t/src/runners/r.cpp" '#include <hiredis/hiredis.h>'
put "$t/handlers/h.cpp" '#include "queue/redis.hpp"'
put "$t/src/engine/CMakeLists.txt" 'target_link_libraries(helmgate_engine PUBLIC PkgConfig::HIREDIS)'
expect_fail "redis outside queue" "$t" -- \
  'src/runners/r.cpp:1: only queue/ talks to Redis: runners may not include hiredis' \
  'handlers/h.cpp:1: only queue/ talks to Redis: handlers may not include queue/redis.hpp' \
  'src/engine/CMakeLists.txt:1: only queue/ links hiredis'

# Sizes: one line over each limit.
clean_tree "$t"
lines "$t/src/core/big.cpp" 501
lines "$t/src/runners/big_runner.cpp" 251
lines "$t/queue/lua/big.lua" 501
expect_fail "oversize files" "$t" -- \
  'src/core/big.cpp:501: 501 lines, over the limit of 500' \
  'src/runners/big_runner.cpp:251: 251 lines, over the limit of 250' \
  'queue/lua/big.lua:501: 501 lines, over the limit of 500'

# The allow-list: an entry with a reason admits its file; no reason, a stale entry or a missing file fail.
clean_tree "$t"
lines "$t/src/core/big.cpp" 600
put "$t/scripts/check-layout.allow" '# comment' 'src/core/big.cpp   being split (issue 12)'
expect_pass "allow-listed file" "$t"
lines "$t/src/core/small.cpp" 10
put "$t/scripts/check-layout.allow" 'src/core/big.cpp' 'src/core/small.cpp  was big' 'src/core/gone.cpp  was big'
expect_fail "allow-list entries" "$t" -- \
  'check-layout.allow:1: src/core/big.cpp has no reason' \
  'src/core/big.cpp:600: 600 lines, over the limit of 500' \
  'check-layout.allow:2: src/core/small.cpp has 10 lines now (limit 500): remove it from the allow-list' \
  'check-layout.allow:3: src/core/gone.cpp is not a product source file (any more): remove it from the allow-list'
put "$work/other.allow" 'src/core/big.cpp  a reason'
expect_pass "--allow names the list" "$t" --allow "$work/other.allow"

# Library links as CMake resolved them.
clean_tree "$t"
put "$t/links.txt" 'helmgate_apply: helmgate_core helmgate_render helmgate_base' \
  'helmgate_runners: helmgate_engine PkgConfig::HIREDIS' 'helmgate_core: helmgate_base helmgate_kube' \
  'helmgate_widgets: helmgate_core'
expect_fail "forbidden links" "$t" --links "$t/links.txt" -- \
  'forbidden dependency apply → render (target_link_libraries(helmgate_apply ... helmgate_render))' \
  'library helmgate_runners links hiredis: only queue/ talks to Redis' \
  'forbidden dependency core → kube' \
  "library helmgate_widgets: 'widgets' is not a folder of the dependency rule"
expect_fail "missing links file" "$t" --links "$t/nothing.txt" -- 'nothing.txt: no such file'

# The real rule has the edges the README states (a few spot checks of the table itself).
clean_tree "$t"
put "$t/handlers/ok.cpp" '#include "core/error.hpp"'
put "$t/src/runners/ok.cpp" '#include "kube/client.hpp"' '#include "git/repository.hpp"' '#include "process/process.hpp"'
put "$t/src/engine/ok.cpp" '#include "config/config.hpp"' '#include "diff/report.hpp"' '#include "release/release.hpp"'
expect_pass "edges of the README" "$t"
put "$t/queue/bad.cpp" '#include "handlers/routes.hpp"'
put "$t/src/engine/bad.cpp" '#include "runners/tools.hpp"' '#include "forge/forge.hpp"' '#include "queue/queue.hpp"'
put "$t/src/process/bad.cpp" '#include "render/renderer.hpp"'
put "$t/src/apply/bad.cpp" '#include "git/repository.hpp"'
expect_fail "edges the README forbids" "$t" -- \
  'queue/bad.cpp:1: forbidden dependency queue → handlers' \
  'src/engine/bad.cpp:1: forbidden dependency engine → runners' \
  'src/engine/bad.cpp:2: forbidden dependency engine → forge' \
  'src/engine/bad.cpp:3: forbidden dependency engine → queue' \
  'src/process/bad.cpp:1: forbidden dependency process → render' \
  'src/apply/bad.cpp:1: forbidden dependency apply → git'

if [ "$failed" -ne 0 ]; then
  echo "checker self-test: FAILED" >&2
  exit 1
fi
echo "checker self-test: every case behaved"
