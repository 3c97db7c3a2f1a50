#!/usr/bin/env bash
# The chaos ledger in CI: 8 PRs x 5 events (40 PR events), 5 merges, 3 clusters, 2 workers, a SIGKILL every
# 2-4 s (the first three: a worker, serve, Redis); fails on any ledger violation. Needs
# `eval "$(scripts/testenv env)"` (Gitea, the three API servers, helm); Redis is the run's own.
set -euo pipefail
: "${HELMGATE_TEST_GITEA_URL:?run eval \"\$(scripts/testenv env)\" first}"
exec "${HELMGATE_SOURCE_DIR:?}/bench/chaos/run" --helmgate "${HELMGATE_BINARY_DIR:?}/helmgate" \
  --prs 8 --pushes 4 --merges 5 --kill-every 2:4 --workers 2 --lanes 2
