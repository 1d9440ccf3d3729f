# Installs the project into a fresh prefix, then configures, builds and runs a consumer
# project against the installed package (which brings the runtime's allocator with it), runs
# the configuration test the package adds, and checks a version it does not satisfy is refused.
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE failed OUTPUT_QUIET)
if(failed)
  message(FATAL_ERROR "cmake --install failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build"
                        "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "configuring against the installed package failed")
endif()
execute_process(COMMAND nice -n 10 ${CMAKE_COMMAND} --build "${WORK_DIR}/build" -j 2 RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "building against the installed package failed")
endif()
execute_process(COMMAND "${WORK_DIR}/build/package-consumer" --version
                OUTPUT_VARIABLE version RESULT_VARIABLE failed)
if(failed OR NOT version MATCHES "^package-consumer ")
  message(FATAL_ERROR "the consumer did not run: ${failed} ${version}")
endif()
# kernel::doctest_main: the main() of a test program that has none, and none of a test file
# that has its own.
foreach(program package-consumer-tests package-consumer-own-main)
  execute_process(COMMAND "${WORK_DIR}/build/${program}" OUTPUT_VARIABLE output ERROR_VARIABLE output
                  RESULT_VARIABLE failed)
  if(failed OR NOT output MATCHES "Status: SUCCESS!")
    message(FATAL_ERROR "${program} (linked with kernel::doctest_main) failed: ${failed}\n${output}")
  endif()
endforeach()
# The allocator the runtime was built for comes with the package: the consumer runs on it.
if(ALLOCATOR STREQUAL "jemalloc" AND NOT version MATCHES "jemalloc [0-9]")
  message(FATAL_ERROR "the consumer should run on jemalloc (KERNEL_ALLOCATOR=jemalloc): ${version}")
endif()
# kernel_add_configuration_test(), from the package: files that list what the consumer reads
# pass; a setting missing from one of them fails, named.
set(files "${WORK_DIR}/build/kernel-files")
file(MAKE_DIRECTORY "${files}")
execute_process(COMMAND "${WORK_DIR}/build/package-consumer" --print-config --format env
                OUTPUT_FILE "${files}/.env.template" RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "package-consumer --print-config --format env failed: ${failed}")
endif()
file(WRITE "${files}/deploy/kubernetes.yaml" "env:\n  - name: PACKAGE_CONSUMER_GREETING\n    value: hello\n")
file(WRITE "${files}/docs/message-spec.md" "| `PACKAGE_CONSUMER_GREETING` | what it says |\n")
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir "${WORK_DIR}/build" -R "^configuration_files$"
                        --output-on-failure
                OUTPUT_VARIABLE output RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "the package's configuration_files test failed on files that agree:\n${output}")
endif()
file(WRITE "${files}/deploy/kubernetes.yaml" "env: []\n")
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir "${WORK_DIR}/build" -R "^configuration_files$"
                        --output-on-failure
                OUTPUT_VARIABLE output RESULT_VARIABLE failed)
if(NOT failed OR NOT output MATCHES "deploy/kubernetes.yaml does not set PACKAGE_CONSUMER_GREETING")
  message(FATAL_ERROR "the package's configuration_files test did not name the missing setting:\n${output}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build-too-new"
                        "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DREQUIRED_VERSION=9.0
                RESULT_VARIABLE refused OUTPUT_QUIET ERROR_QUIET)
if(NOT refused)
  message(FATAL_ERROR "find_package(kernel_runtime 9.0) should have been refused")
endif()
# kernel_precompile_headers() never goes stale: a change to an installed runtime header makes
# the next build compile the precompiled header again (here it fails on purpose, naming the
# probe), rather than compile against the old one. The header is put back afterwards: the
# examples test builds against this prefix.
set(header "${WORK_DIR}/prefix/include/kernel/kernel.hpp")
file(READ "${header}" original)
file(APPEND "${header}" "#error \"kernel_precompile_headers staleness probe\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" --target package-consumer
                OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE failed)
file(WRITE "${header}" "${original}")
if(NOT failed OR NOT output MATCHES "cmake_pch\\.hxx\\.gch" OR NOT output MATCHES "staleness probe")
  message(FATAL_ERROR "a changed runtime header did not make the precompiled header compile again:\n${output}")
endif()
if(NOT EXISTS "${WORK_DIR}/prefix/bin/kernel-dev-broker")
  message(FATAL_ERROR "kernel-dev-broker is not installed")
endif()
message(STATUS "package test passed: ${version}")
