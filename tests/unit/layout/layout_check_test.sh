#!/usr/bin/env bash
# This tree follows the layout rules: every include and every library link obeys the dependency rule,
# only queue/ talks to Redis, no file over its size limit unless allow-listed with a reason.
set -euo pipefail
: "${HELMGATE_SOURCE_DIR:?run through ctest}" "${HELMGATE_BINARY_DIR:?run through ctest}"
links=$HELMGATE_BINARY_DIR/layout/links.txt
# The links file must describe the real libraries, or the link check would pass vacuously.
for lib in helmgate_core helmgate_process helmgate_render helmgate_apply helmgate_queue helmgate_runners helmgate; do
  grep -q "^$lib:" "$links" || { echo "FAIL: $links has no line for $lib" >&2; exit 1; }
done
grep -q '^helmgate_apply:.*helmgate_process' "$links" || { echo "FAIL: helmgate_apply does not link helmgate_process" >&2; exit 1; }
exec "$HELMGATE_SOURCE_DIR/scripts/check-layout" --root "$HELMGATE_SOURCE_DIR" --links "$links"
