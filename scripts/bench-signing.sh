#!/usr/bin/env bash
# Measures signing/ on one-page diplomas (render, sign, render + sign with a
# PKCS#12 key and through a SoftHSM2 token, verification) with
# motcua_sign_bench (tests/bench/sign/sign_bench.cc), beside the machine's
# own RSA-2048 sign rate (`openssl speed`, the physical limit) and podofosign
# signing the same unsigned diploma with the same key. Prints the figures
# that go into docs/BENCHMARKS.md. Not a test: run it on an otherwise idle
# machine.
#   scripts/bench-signing.sh [--quick]   (--quick: 2 s runs, 50 podofosign runs)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=10
WARMUP=1
PODOFO_RUNS=200
SPEED_SECONDS=5
case "${1:-}" in
  "") ;;
  --quick) SECONDS_PER_RUN=2; WARMUP=0.5; PODOFO_RUNS=50; SPEED_SECONDS=2 ;;
  *) echo "usage: scripts/bench-signing.sh [--quick]" >&2; exit 64 ;;
esac

# podofosign is the peer; the rest comes with scripts/setup.sh.
scripts/install-packages.sh libpodofo-utils softhsm2 openssl
B="${MOTCUA_BUILD_DIR:-build}"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j"$(nproc)" --target motcua_sign_bench >/dev/null
BENCH="$B/tests/motcua_sign_bench"
THREADS=$(nproc)

WORK=$(mktemp -d /tmp/motcua-bench-signing-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PKI="$WORK/pki"

echo "machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))," \
  "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"
echo "openssl: $(openssl version)"
echo "load_average_before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The dev PKI and the unsigned diploma every signer below signs.
SLOT=$("$BENCH" --pki-dir "$PKI" --samples-dir "$WORK" --runs none | grep '^SLOT')

# A fresh SoftHSM2 token holding the officer's RSA-2048 key (imported, so
# all signers use the same key and certificate).
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
mkdir "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$WORK/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label motcua-bench --pin 123456 --so-pin 87654321 >/dev/null
softhsm2-util --import "$PKI/signers/head.key" --token motcua-bench --label head --id 01 \
  --pin 123456 >/dev/null
cat "$PKI/signers/head.crt" "$PKI/ca.crt" >"$WORK/head-chain.pem"

# The physical limit: raw RSA-2048 signatures per second, one process and
# one per core. The last line of `openssl speed` is "rsa 2048 bits t t sign/s verify/s".
speed() { openssl speed -seconds "$SPEED_SECONDS" "$@" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $(NF-1)}'; }
echo "openssl_speed_rsa2048_sign_per_s single=$(speed) multi_$THREADS=$(speed -multi "$THREADS")"

"$BENCH" --pki-dir "$PKI" --threads "$THREADS" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" \
  --token-label motcua-bench --key-label head --pin 123456 --chain "$WORK/head-chain.pem" \
  | tee "$WORK/bench.out" | grep -v '^SLOT'

# podofosign signs the same file with the same key (PEM), one process per
# document, with an appearance as close to ours as it can draw: the
# signature image and the name in Helvetica (a standard font, not embedded,
# so cheaper than our embedded subset and without Vietnamese marks).
# podofosign's rectangles are in mm from the top-left corner; the diploma
# is landscape A4 (595.28 pt high).
read -r ANNOT IMAGE TEXT < <(awk -v s="$SLOT" 'BEGIN {
  n = split(s, f, /[ =]/); for (i = 2; i < n; i += 2) v[f[i]] = f[i + 1];
  mm = 25.4 / 72; w = v["width"] * mm; h = v["height"] * mm;
  printf "%d,%.2f,%.2f,%.2f,%.2f 0,0,%.2f,%.2f %.2f\n", v["page"] + 1, v["x"] * mm,
    (595.28 - v["y"] - v["height"]) * mm, w, h, w, h * 0.75, h * 0.85 }')
PODOFO=(podofosign -in "$WORK/diploma.pdf" -cert "$PKI/signers/head.crt"
  -pkey "$PKI/signers/head.key" -digest sha256 -sigsize 16384 -field-name Officer
  -reason "Cấp bằng tốt nghiệp" -annot-units mm -annot-position "$ANNOT" -annot-print
  -annot-image "$IMAGE,$PKI/images/head-signature.png" -annot-font "3.5,000000,Helvetica"
  -annot-text "0,$TEXT,Nguyen Van Duc")
mkdir "$WORK/podofo"
"${PODOFO[@]}" -out "$WORK/podofo/check.pdf" >/dev/null
grep -q '/ByteRange' "$WORK/podofo/check.pdf" || { echo "podofosign made no signature" >&2; exit 1; }
timed_rate() {  # $1 parallel processes; prints documents per second
  local t0 t1
  t0=$(date +%s.%N)
  seq "$PODOFO_RUNS" | xargs -P "$1" -I{} "${PODOFO[@]}" -out "$WORK/podofo/{}.pdf" >/dev/null
  t1=$(date +%s.%N)
  awk -v n="$PODOFO_RUNS" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", n / (b - a)}'
}
PODOFO_1=$(timed_rate 1)
PODOFO_N=$(timed_rate "$THREADS")
# What of a run is only starting the process (usage message, no work).
T0=$(date +%s.%N)
for _ in $(seq 20); do podofosign >/dev/null 2>&1 || true; done
STARTUP_MS=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", (b - a) * 1000 / 20}')
echo "podofosign runs=$PODOFO_RUNS rate_1_process=$PODOFO_1 rate_${THREADS}_parallel=$PODOFO_N" \
  "startup_only_ms=$STARTUP_MS" \
  "(per process: start, load key, sign, write; sha256, 16 KiB reserved, visible appearance)"

rate_of() { sed -n "s/^RESULT name=$1 .* rate=\([0-9.]*\) .*/\1/p" "$WORK/bench.out"; }
awk -v s="$(rate_of sign)" -v rs="$(rate_of render_sign)" -v p="$PODOFO_N" 'BEGIN {
  printf "ratio_to_podofosign sign=%.1f render_sign=%.1f (motcua / podofosign, same threads)\n",
    s / p, rs / p }'
echo "load_average_after: $(cut -d' ' -f1-3 /proc/loadavg)"
