# The benchmarks are not tests, but their smoke modes (a few hundred messages each) run with
# the tests so the commands cannot rot (bench/smoke.sh says what each must print). Included
# from tests/CMakeLists.txt.
if(TARGET bench-throughput AND TARGET bench-latency AND TARGET bench-io-bound
   AND TARGET bench-exactly-once AND TARGET bench-batch AND TARGET bench-batch-kernel
   AND TARGET bench-raw-batch-loop AND TARGET bench-raw-batch-loop-jemalloc AND TARGET bench-raw-loop-jemalloc
   AND TARGET bench-producer AND TARGET example-enricher)
  add_test(NAME bench_smoke COMMAND bash bench/smoke.sh WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(bench_smoke PROPERTIES TIMEOUT 180 LABELS integration PROCESSORS 2
    ENVIRONMENT "KERNEL_BUILD_DIR=${CMAKE_BINARY_DIR};KERNEL_BENCH_NO_BUILD=1")
endif()
