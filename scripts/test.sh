#!/usr/bin/env bash
# Installs what is needed, builds everything and runs every test (unit, integration,
# package, generator, end to end). Usage: scripts/test.sh [ctest arguments...]
# KERNEL_DEBUG_INFO=0 builds without debug information (-g): about 30% less compile time, for
# a one-off build such as CI's. KERNEL_UNITY_BUILD=1 compiles up to 8 sources of a target as
# one (CMAKE_UNITY_BUILD): about half the compile time from scratch, but an edit recompiles its
# whole group, so it suits a one-off build too. Each step says when it starts and how long it
# took; the build shows its progress, the tests one line each as they finish; whole outputs
# go to build/logs/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/scripts/steps.sh"
build="${KERNEL_BUILD_DIR:-$top/build}"
logs="$build/logs"
# Every choice stated, not left to the cache: scripts/quickstart.sh configures the same build
# directory without tests, examples, benchmarks and -g.
flags=(-DKERNEL_BUILD_TESTS=ON -DKERNEL_BUILD_EXAMPLES=ON -DKERNEL_BUILD_BENCH=ON)
if [ "${KERNEL_DEBUG_INFO:-1}" = 0 ]; then
  flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
else
  flags+=(-UCMAKE_CXX_FLAGS_RELWITHDEBINFO)  # back to CMake's default, -g included
fi
if [ "${KERNEL_UNITY_BUILD:-0}" = 1 ]; then
  flags+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
else
  flags+=(-DCMAKE_UNITY_BUILD=OFF)
fi

echo "new-kernel tests, on 2 cores: building from scratch takes about 12 minutes (5 to 7 with"
echo "KERNEL_DEBUG_INFO=0 KERNEL_UNITY_BUILD=1, as CI builds), then the tests about 8 more"
last=$(cat "$logs/tests-duration" 2>/dev/null || true)
if [[ "$last" =~ ^[0-9]{1,6}$ ]]; then echo "(here, the whole suite's tests last took $(duration "$last"))"; fi

step_begin "checking the Debian packages it needs (scripts/packages.txt)"
"$top/scripts/install-deps.sh"
# The interoperability tests drive kafkajs: Node.js with npm. A machine with NodeSource's nodejs
# has both (and Debian's npm package conflicts with it), so Debian's are installed only when no
# npm command is found.
if ! command -v npm >/dev/null; then
  echo "   installing Node.js and npm for the interoperability tests (Debian's nodejs, npm)"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=""; fi
  mkdir -p "$logs"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends nodejs npm >"$logs/node-install.log" 2>&1 ||
    { echo "   could not install nodejs and npm: see $logs/node-install.log"; exit 1; }
fi
step_end

step_begin "configuring everything: runtime, tools, new-kernel, tests, examples, benchmarks"
run_logged "$logs/test-configure.log" cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}"
step_end

step_begin "building everything"
run_logged "$logs/test-build.log" cmake --build "$build" -j "$(nproc)"
step_end

step_begin "running the tests: one line each as it finishes"
cd "$build"
tests_started=$SECONDS
# Eight at a time on any machine: the tests mostly wait on brokers and timers, not on the CPU
# (the builds inside the end-to-end tests count for two each and run niced).
run_tests_logged "$logs/tests.log" ctest --output-on-failure --timeout 900 -j "${KERNEL_TEST_JOBS:-8}" "$@"
# Remembered for the next run's estimate, when every test ran.
if [ $# -eq 0 ]; then echo $((SECONDS - tests_started)) >"$logs/tests-duration"; fi
step_end
