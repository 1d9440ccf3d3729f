# Sourced by the bench/ commands: builds what they run in a Release tree of its own
# (build-bench, or $KERNEL_BUILD_DIR). With KERNEL_BENCH_NO_BUILD=1 (the smoke test) the
# binaries of $KERNEL_BUILD_DIR are used as they are.
top=$(cd "$(dirname "$0")/.." && pwd)
build="${KERNEL_BUILD_DIR:-$top/build-bench}"
if [ "${KERNEL_BENCH_NO_BUILD:-0}" != 1 ]; then
  cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKERNEL_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target kernel-dev-broker example-enricher bench-raw-loop bench-raw-loop-jemalloc "$@" >/dev/null
fi
broker="$build/runtime/kernel-dev-broker"
kernel="$build/examples/enricher/example-enricher"
raw="$build/bench/bench-raw-loop"                   # the C library's malloc, as a team writes it
raw_jemalloc="$build/bench/bench-raw-loop-jemalloc"  # the kernel's allocator: the headline ratios
# Read: keep them out of the environment the kernels inherit (they would warn about unknown
# KERNEL_ variables).
unset KERNEL_BENCH_NO_BUILD KERNEL_BUILD_DIR
