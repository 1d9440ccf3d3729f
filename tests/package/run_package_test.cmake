# Installs the project into a fresh prefix, then configures, builds and runs a consumer
# project against the installed package (which brings the runtime's allocator with it), and
# checks a version it does not satisfy is refused.
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
# The allocator the runtime was built for comes with the package: the consumer runs on it.
if(ALLOCATOR STREQUAL "jemalloc" AND NOT version MATCHES "jemalloc [0-9]")
  message(FATAL_ERROR "the consumer should run on jemalloc (KERNEL_ALLOCATOR=jemalloc): ${version}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build-too-new"
                        "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" -DREQUIRED_VERSION=9.0
                RESULT_VARIABLE refused OUTPUT_QUIET ERROR_QUIET)
if(NOT refused)
  message(FATAL_ERROR "find_package(kernel_runtime 9.0) should have been refused")
endif()
if(NOT EXISTS "${WORK_DIR}/prefix/bin/kernel-dev-broker")
  message(FATAL_ERROR "kernel-dev-broker is not installed")
endif()
message(STATUS "package test passed: ${version}")
