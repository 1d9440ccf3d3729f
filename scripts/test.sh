#!/usr/bin/env bash
# Installs what is needed, builds everything and runs every test (unit, integration,
# package, generator, end to end). Usage: scripts/test.sh [ctest arguments...]
# KERNEL_DEBUG_INFO=0 builds without debug information (-g): about 30% less compile time, for
# a one-off build such as CI's. KERNEL_UNITY_BUILD=1 compiles up to 8 sources of a target as
# one (CMAKE_UNITY_BUILD): about half the compile time from scratch, but an edit recompiles its
# whole group, so it suits a one-off build too.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
build="${KERNEL_BUILD_DIR:-$top/build}"
flags=()
if [ "${KERNEL_DEBUG_INFO:-1}" = 0 ]; then flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"); fi
if [ "${KERNEL_UNITY_BUILD:-0}" = 1 ]; then flags+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8); fi
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}"
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 900 -j 2 "$@"
