# Every dependency comes from Debian 12 packages (see .ci/run for the list).
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
find_package(CLI11 CONFIG REQUIRED)
# Confluent wire format's Protobuf (runtime/src/schema): libprotobuf, and protoc for the tests' .proto.
find_package(Protobuf REQUIRED)
# Header-only; compiled once into kernel::doctest_main, which kernels' tests link.
find_package(doctest 2.4 REQUIRED)

# The allocator every program linking kernel::runtime uses: jemalloc by default (a kernel
# allocates and frees a few small blocks per message on one thread and librdkafka frees them
# on another; glibc's malloc spends a fifth of a CPU-light kernel's time there, see
# docs/benchmarks.md), or the C library's with -DKERNEL_ALLOCATOR=system.
set(KERNEL_ALLOCATOR "jemalloc" CACHE STRING "Allocator of kernels: jemalloc or system")
set_property(CACHE KERNEL_ALLOCATOR PROPERTY STRINGS jemalloc system)
if(KERNEL_ALLOCATOR STREQUAL "jemalloc")
  pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
  if(NOT JEMALLOC_FOUND)
    message(FATAL_ERROR "KERNEL_ALLOCATOR=jemalloc needs jemalloc's development files: "
                        "apt-get install libjemalloc-dev, or configure with -DKERNEL_ALLOCATOR=system")
  endif()
elseif(NOT KERNEL_ALLOCATOR STREQUAL "system")
  message(FATAL_ERROR "KERNEL_ALLOCATOR=${KERNEL_ALLOCATOR}: expected jemalloc or system")
endif()
# Avro (runtime/src/schema/): avro-c parses and judges writer schemas.
pkg_check_modules(AVRO REQUIRED IMPORTED_TARGET avro-c)
