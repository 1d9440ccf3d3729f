#!/usr/bin/env bash
# The main job, from a fresh checkout: install dependencies, build and install the runtime,
# its tools and new-kernel into ./.prefix, generate a kernel (demo/orders-enricher), build it
# against the installed runtime, run it on the embedded broker with its sample messages, and
# show what it produced and dead-lettered.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
prefix="$top/.prefix"
jobs=$(nproc)

echo "== building and installing the runtime and new-kernel into $prefix"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$top/build" -j "$jobs" >/dev/null
cmake --install "$top/build" >/dev/null

demo="$top/demo/orders-enricher"
rm -rf "$demo"  # new-kernel refuses to overwrite: start from a clean demo each time
echo "== new-kernel orders-enricher --topic orders --output-topic orders.enriched --pattern enrichment"
"$prefix/bin/new-kernel" orders-enricher --topic orders --output-topic orders.enriched --pattern enrichment \
  --description "Adds customer details to each order" --dir "$demo" --no-git

echo "== building the generated kernel against the installed runtime"
cmake -S "$demo" -B "$demo/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$demo/build" -j "$jobs" >/dev/null

echo "== ./build/orders-enricher --samples samples/input.jsonl   (outputs and dead letters, as JSON Lines)"
cd "$demo"
./build/orders-enricher --samples samples/input.jsonl
cat <<NEXT

== done. Next: the kernel's logic is in $demo/src/handler.cpp (its README says how to
   test, configure and deploy it); generate your own with
   $prefix/bin/new-kernel my-kernel --topic my-topic --output-topic my-topic.out --dir ~/kernels/my-kernel
NEXT
