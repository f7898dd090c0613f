#!/usr/bin/env bash
# The engine's own work, each against a fresh server it starts: receive steps
# with the receipt issued after commit and how fast the document workers
# issue them, the time from step to issued receipt at a sustained rate, and
# 100,000 timers falling due at once. Not a test: run it on an otherwise idle
# machine; figures go to docs/BENCHMARKS.md.
#   scripts/bench-engine.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
B=build/tests/motcua_engine_bench
SECONDS_AT_RATE=60
TIMERS=100000
RECEIPTS=5000
if [ "${1:-}" = "--quick" ]; then SECONDS_AT_RATE=10; TIMERS=10000; RECEIPTS=1000; fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"
$B receipts --count "$RECEIPTS" | grep '^RESULT'
for rate in 100 150 200; do
  $B receipt-latency --rate "$rate" --seconds "$SECONDS_AT_RATE" | grep '^RESULT'
done
$B timers --count "$TIMERS" | grep '^RESULT'
