#!/usr/bin/env bash
# Installs, builds and runs every test: unit tests and integration tests
# against the real server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR="${MOTCUA_BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 "$@"
