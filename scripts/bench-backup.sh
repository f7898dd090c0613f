#!/usr/bin/env bash
# Times the 3-2-1 backup operations on a store of 1,000,000 dossiers,
# through the real server and CLI, and prints the figures that go into
# docs/BENCHMARKS.md. Not a test: run it on an otherwise idle machine.
#   scripts/bench-backup.sh [--quick]     (--quick: 100,000 dossiers)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
B=build
FILL=1000000
[ "${1:-}" = "--quick" ] && FILL=100000

WORK=$(mktemp -d /tmp/motcua-bench-backup-XXXXXX)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"
echo "filling $FILL dossiers..."
$B/tests/motcua_fill --data-dir "$WORK/data" --count "$FILL" --threads 4 >/dev/null
echo "data_dir=$(du -sh "$WORK/data" | cut -f1)"

# No schedule: the benchmark decides when each operation runs.
openssl rand -hex 32 > "$WORK/offline.key"
cat > "$WORK/policy.textproto" <<POLICY
backup { path: "$WORK/backup" medium: MEDIUM_SECOND_DISK max_age { seconds: 93600 } keep_last: 14 }
offline { medium: MEDIUM_REMOVABLE max_age { seconds: 604800 } key_file: "$WORK/offline.key" }
drill_path: "$WORK/drill"
POLICY
$B/adapters/motcuad --dev --data-dir "$WORK/data" --pki-dir "$WORK/pki" --listen 127.0.0.1:0 \
    --port-file "$WORK/port" --backup-policy "$WORK/policy.textproto" >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 3000); do [ -s "$WORK/port" ] && break; sleep 0.01; done
CLI=($B/adapters/motcua --server "127.0.0.1:$(cat "$WORK/port")" --pki-dir "$WORK/pki" --as admin)

timed() {  # $1 label, rest: command; prints label_s=seconds
  local label=$1 t0 t1; shift
  t0=$(date +%s.%N)
  "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || { echo "$label failed:"; cat "$WORK/$label.err" "$WORK/$label.out"; }
  t1=$(date +%s.%N)
  echo "${label}_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
}

timed backup "${CLI[@]}" backup run
echo "backup_dir=$(du -sh "$WORK/backup" | cut -f1)"
timed verify "${CLI[@]}" backup verify
mkdir -p "$WORK/usb"
timed export_offline "${CLI[@]}" backup export-offline "$WORK/usb"
echo "offline_copy=$(du -sh "$WORK/usb" | cut -f1)"
COPY=$(ls "$WORK/usb")
"${CLI[@]}" backup confirm-detached "$COPY" --by bench --kept-at bench >/dev/null
timed drill_from_backup "${CLI[@]}" backup drill
timed drill_from_offline "${CLI[@]}" backup drill --offline "$WORK/usb/$COPY"
grep -E "^(took|restored)" "$WORK/drill_from_offline.out" | tr -s ' ' | sed 's/^/  offline drill /'
timed restore_offline_cli "${CLI[@]}" backup restore --from "$WORK/usb/$COPY" --to "$WORK/restored" \
    --key-file "$WORK/offline.key" --trust "$WORK/pki/ca.crt"
"${CLI[@]}" backup status | head -1
