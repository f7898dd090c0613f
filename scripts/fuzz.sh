#!/usr/bin/env bash
# Fuzzes one libFuzzer target for SECONDS (default 60) with ASan and UBSan:
#   scripts/fuzz.sh [verify_pdf|api_input|document_template] [SECONDS]
# verify_pdf (default): the PDF signature verifier (tests/fuzz/verify_pdf_fuzzer.cc);
# api_input: page tokens, the metrics request line, request size checks and
# PKCS#11 URIs (tests/fuzz/api_input_fuzzer.cc); document_template: document
# templates, their checks and layout (tests/fuzz/document_template_fuzzer.cc).
# Installs clang-14 and its runtime if missing, builds into build-fuzz/, and
# works on a copy of the committed corpus (build-fuzz/<target>-corpus) so new
# inputs do not land in the tree. A crash leaves its input as
# build-fuzz/crash-*; add it to the target's corpus once fixed, so the replay
# test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=verify_pdf
case "${1:-}" in
  verify_pdf|api_input|document_template) TARGET=$1; shift ;;
esac
SECONDS_TO_RUN="${1:-60}"
case "$TARGET" in
  verify_pdf) CORPUS=tests/fuzz/corpus; EXTRA=(-dict="$PWD/tests/fuzz/pdf.dict" -timeout=25) ;;
  api_input) CORPUS=tests/fuzz/api_input_corpus; EXTRA=(-timeout=5) ;;
  document_template) CORPUS=tests/fuzz/document_template_corpus; EXTRA=(-timeout=10 -max_len=8192) ;;
esac

PACKAGES=(clang-14 libclang-rt-14-dev)
scripts/install-packages.sh "${PACKAGES[@]}"

BUILD_DIR="${MOTCUA_FUZZ_BUILD_DIR:-build-fuzz}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOTCUA_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$BUILD_DIR" -j"${MOTCUA_FUZZ_JOBS:-2}" --target "${TARGET}_fuzzer"

mkdir -p "$BUILD_DIR/$TARGET-corpus"
cp -n "$CORPUS"/* "$BUILD_DIR/$TARGET-corpus/"

# PoDoFo 0.9.8 leaks the filter it was building when PdfFilterFactory::Create
# throws on a bad /Filter; it is not ours to fix and not a finding.
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$BUILD_DIR"
exec "./tests/${TARGET}_fuzzer" "$TARGET-corpus" "${EXTRA[@]}" \
  -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -print_final_stats=1
