#!/usr/bin/env bash
# Regenerates docs/configuration.md from the runtime's configuration registry.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="${1:-$top/build}"
cmake --build "$build" --target config-docs >/dev/null
"$build/tests/config-docs" > "$top/docs/configuration.md"
echo "wrote docs/configuration.md"
