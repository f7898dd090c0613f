#!/usr/bin/env bash
# Installs what motcua needs from Debian 12 and builds it into build/.
# Idempotent: installs only missing packages, rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ make pkg-config openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev librocksdb-dev libgtest-dev libgmock-dev
  # documents and signatures: PDF, fonts with Vietnamese, QR codes, tokens
  libpodofo-dev fonts-dejavu-core fonts-dejavu-extra libqrencode-dev zlib1g-dev softhsm2 opensc libp11-dev
  libengine-pkcs11-openssl
  # independent judges and peers in the tests: poppler, qpdf, NSS
  poppler-utils qpdf libnss3-tools
  # command-line parsing of every binary (--help everywhere)
  libcli11-dev
)

scripts/install-packages.sh "${PACKAGES[@]}"

BUILD_DIR="${MOTCUA_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${MOTCUA_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
