#!/usr/bin/env bash
# The main job, from a fresh checkout: install dependencies, build and install the runtime
# and tools into ./.prefix, then run the example kernel on the embedded broker with its
# sample messages and show what it produced and dead-lettered.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
prefix="$top/.prefix"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$top/build" -j "$(nproc)"
cmake --install "$top/build" >/dev/null
echo
echo "== example-enricher --samples examples/enricher/samples/input.jsonl"
"$top/build/examples/enricher/example-enricher" --samples "$top/examples/enricher/samples/input.jsonl"
