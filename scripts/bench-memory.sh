#!/usr/bin/env bash
# Resident memory of motcuad after abuse: 25 oversized requests (12 MiB
# each), one after the other, refused by the server. Compares what the
# server does by design (per-method request limits, glibc's mmap threshold
# fixed at 128 KiB in main) with glibc's defaults, jemalloc and tcmalloc.
# Prints one line per run for docs/BENCHMARKS.md. Not a test.
#   scripts/bench-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh libjemalloc2 libtcmalloc-minimal4 >/dev/null
B="${MOTCUA_BUILD_DIR:-build}"
cmake --build "$B" -j"$(nproc)" --target motcuad motcua_oversized >/dev/null
LIB=/usr/lib/x86_64-linux-gnu
WORK=$(mktemp -d /tmp/motcua-bench-memory-XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"

rss_mib() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }

# run LABEL METHOD [ENV=VALUE ...]
run() {
  local label=$1 method=$2
  shift 2
  rm -rf "$WORK/data" "$WORK/port"
  env "$@" "$B/adapters/motcuad" --dev --data-dir "$WORK/data" --pki-dir "$WORK/pki" \
    --listen 127.0.0.1:0 --port-file "$WORK/port" --log-format text >"$WORK/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1500); do [ -s "$WORK/port" ] && break; sleep 0.02; done
  sleep 1
  local before after later codes
  before=$(rss_mib "$PID")
  codes=$("$B/tests/motcua_oversized" --server "127.0.0.1:$(cat "$WORK/port")" \
    --pki-dir "$WORK/pki" --method "$method" --mib 12 --count 25 | tr '\n' ' ')
  after=$(rss_mib "$PID")
  sleep 10
  later=$(rss_mib "$PID")
  echo "RESULT run=$label method=${method##*/} rss_before_mib=$before rss_after_mib=$after" \
    "rss_10s_later_mib=$later $codes"
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
}

CT=/motcua.v1.TaskService/CompleteTask
SUB=/motcua.v1.DossierService/SubmitDossier
run as_built "$CT"
run as_built "$SUB"
run jemalloc "$SUB" LD_PRELOAD="$LIB/libjemalloc.so.2"
run tcmalloc "$SUB" LD_PRELOAD="$LIB/libtcmalloc_minimal.so.4"
