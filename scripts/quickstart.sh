#!/usr/bin/env bash
# The main job, from a fresh checkout, in about 3 minutes on 2 cores once the packages are
# installed (4 on a Debian 12 that has none of them): install dependencies, build and install
# the runtime, its tools and new-kernel into ./.prefix, generate a kernel
# (demo/orders-enricher), build it against the installed runtime, run it on the embedded
# broker with its sample messages, and show what it produced and dead-lettered. Each step
# says when it starts and how long it took; builds show their progress, their whole output
# goes to build/logs/.
#
# It builds only what that needs: no tests, examples or benchmarks, no debug information (-g),
# up to 8 sources compiled as one (a unity build); and of the demo kernel, the kernel itself,
# its tests being built by the kernel's own `cmake --build build`. scripts/test.sh builds the rest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/steps.sh"
prefix="$top/.prefix"
build="$top/build"
logs="$build/logs"
jobs=$(nproc)
no_debug_info="-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"

echo "new-kernel quick start: about 3 minutes on 2 cores, 4 when its packages need installing first"

step_begin "checking the Debian packages it needs (scripts/packages.txt)"
"$top/scripts/install-deps.sh"
step_end

step_begin "configuring the runtime, its tools and new-kernel"
run_logged "$logs/quickstart-configure.log" cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "$no_debug_info" -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
  -DKERNEL_BUILD_TESTS=OFF -DKERNEL_BUILD_EXAMPLES=OFF -DKERNEL_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX="$prefix"
step_end

step_begin "building them (2 to 3 minutes on 2 cores)"
run_logged "$logs/quickstart-build.log" cmake --build "$build" -j "$jobs"
step_end

step_begin "installing them into $prefix"
run_logged "$logs/quickstart-install.log" cmake --install "$build"
step_end

demo="$top/demo/orders-enricher"
rm -rf "$demo"  # new-kernel refuses to overwrite: start from a clean demo each time
step_begin "new-kernel orders-enricher --topic orders --output-topic orders.enriched --pattern enrichment"
"$prefix/bin/new-kernel" orders-enricher --topic orders --output-topic orders.enriched --pattern enrichment \
  --description "Adds customer details to each order" --dir "$demo" --no-git
step_end

# Configured as any kernel is (its tests on), without -g like the runtime; only the kernel
# binary is built here.
step_begin "building the demo kernel against the installed runtime (about 20 seconds)"
run_logged "$logs/demo-configure.log" cmake -S "$demo" -B "$demo/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "$no_debug_info"
run_logged "$logs/demo-build.log" cmake --build "$demo/build" -j "$jobs" --target orders_enricher
step_end

step_begin "./build/orders-enricher --samples samples/input.jsonl   (outputs and dead letters, as JSON Lines)"
cd "$demo"
./build/orders-enricher --samples samples/input.jsonl
step_end

cat <<NEXT

== quick start done in $(duration "$SECONDS"). Next:
   the kernel's logic is in $demo/src/handler.cpp;
   its README says how to test, configure and deploy it. Its tests:
   cd $demo && cmake --build build -j && ctest --test-dir build
   Generate your own:
   $prefix/bin/new-kernel my-kernel --topic my-topic --output-topic my-topic.out --dir ~/kernels/my-kernel
NEXT
