#!/usr/bin/env bash
# Checks that every C++ source the project owns is formatted by the root .clang-format.
# Usage: scripts/check-format.sh [--fix]. Generated kernels (tests/golden) are checked by
# comparing them with the generator's output, not here.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed: apt-get install -y clang-format" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' | grep -v '^tests/golden/')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/format.$$; then
  grep -o '^[^:]*:[0-9]*' /tmp/format.$$ | sort -u -t: -k1,1 | sed 's/$/: not formatted/' >&2
  rm -f /tmp/format.$$
  echo "run scripts/check-format.sh --fix and commit the result" >&2
  exit 1
fi
rm -f /tmp/format.$$
echo "format: ${#files[@]} files formatted"
