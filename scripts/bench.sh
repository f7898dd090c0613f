#!/usr/bin/env bash
# Runs the foundation benchmarks against the real server on loopback and
# prints the figures that go into docs/BENCHMARKS.md. Not a test: run it on
# an otherwise idle machine.
#   scripts/bench.sh [--quick] [--big-only]
#     --quick     short runs, 100k dossiers instead of 1M
#     --big-only  only the stored-dossiers part (memory, restart times)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
B=build
DURATION=60
FILL=1000000
BIG_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --quick) DURATION=10; FILL=100000 ;;
    --big-only) BIG_ONLY=1 ;;
    *) echo "usage: scripts/bench.sh [--quick] [--big-only]" >&2; exit 64 ;;
  esac
done

WORK=$(mktemp -d /tmp/motcua-bench-XXXXXX)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start_server() {  # $1 data dir; sets SERVER_PID and PORT
  rm -f "$WORK/port"
  $B/adapters/motcuad --dev --data-dir "$1" --pki-dir "$WORK/pki" --listen 127.0.0.1:0 \
      --port-file "$WORK/port" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do [ -s "$WORK/port" ] && break; sleep 0.01; done
  PORT=$(cat "$WORK/port")
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# Runs the load generator; adds the server's CPU time per call (user+system,
# warmup and preload included, so slightly high) to show what bounds a run.
load() {
  local before after result ok
  before=$(cpu_ticks)
  result=$($B/tests/motcua_load --server "127.0.0.1:$PORT" --pki-dir "$WORK/pki" "$@" | grep '^RESULT')
  after=$(cpu_ticks)
  ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$result")
  echo "$result server_cpu_us_per_call=$(( (after - before) * 1000000 / $(getconf CLK_TCK) / (ok > 0 ? ok : 1) ))"
}
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"

if [ "$BIG_ONLY" = 0 ]; then
# Each run starts on a fresh store, so one run's compaction debt does not
# land on the next.
run=0
for args in "--mode submit" "--mode submit --rate 4000" "--mode complete" "--mode read"; do
  run=$((run + 1))
  start_server "$WORK/data$run"
  # shellcheck disable=SC2086
  load $args --clients 64 --duration "$DURATION"
  echo "rss_after_run_mib=$(rss_mib)"
  stop_server
done
fi

echo "filling $FILL dossiers..."
$B/tests/motcua_fill --data-dir "$WORK/big" --count "$FILL" --threads 4 >/dev/null

# Starts the server on $WORK/big; sets STARTUP_S to the seconds until it
# answers a call. (Not run in $(...): the server would hold its output open.)
start_timed() {
  local t0 t1
  t0=$(date +%s.%N)
  start_server "$WORK/big"
  until $B/adapters/motcua --server "127.0.0.1:$PORT" --pki-dir "$WORK/pki" --as auditor \
      procedures list >/dev/null 2>&1; do sleep 0.01; done
  t1=$(date +%s.%N)
  STARTUP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
}

start_timed
echo "restart_after_clean_stop_s=$STARTUP_S dossiers=$FILL"
# Reads spread over the newest 200k dossiers (listing all 1M first would
# take longer than the run).
load --mode read --clients 64 --duration "$DURATION" --preload 0 --read-existing 200000
echo "rss_with_${FILL}_dossiers_mib=$(rss_mib) du_data=$(du -sh "$WORK/big" | cut -f1)"

# Crash under write load, then time recovery (WAL replay included).
$B/tests/motcua_load --server "127.0.0.1:$PORT" --pki-dir "$WORK/pki" --mode submit \
    --clients 64 --duration 20 >/dev/null 2>&1 &
LOAD_PID=$!
sleep 10
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
wait "$LOAD_PID" 2>/dev/null || true
start_timed
echo "restart_after_kill9_under_load_s=$STARTUP_S"
stop_server
