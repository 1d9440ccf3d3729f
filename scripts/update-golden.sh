#!/usr/bin/env bash
# Regenerates tests/golden/<pattern>/ with the installed new-kernel (built from this checkout
# and installed into a temporary prefix), after an intended change to the templates or to the
# runtime's configuration registry. Review the diff before committing it.
#   scripts/update-golden.sh [build-dir]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="${1:-${KERNEL_BUILD_DIR:-$top/build}}"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)"
cmake --install "$build" --prefix "$prefix" >/dev/null
python3 "$top/tests/generator/golden.py" --new-kernel "$prefix/bin/new-kernel" --golden "$top/tests/golden" --update
git -C "$top" status --short -- tests/golden
