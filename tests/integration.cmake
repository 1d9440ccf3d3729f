# Integration tests of the runtime: in-process (doctest + the embedded broker) and
# process-level (kernel binaries on kernel-dev-broker, checked with confluent-kafka).

add_executable(it-kernel runtime/integration/it_kernel.cpp)
target_link_libraries(it-kernel PRIVATE kernel::runtime)

# A kernel with settings of its own and named outputs (test_settings.py).
add_executable(settings-kernel runtime/integration/settings_kernel.cpp)
target_link_libraries(settings-kernel PRIVATE kernel::runtime)

file(GLOB RUNTIME_INTEGRATION_TESTS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/runtime/integration/*_test.cpp")
add_executable(runtime_integration_tests runtime/unit/main.cpp ${RUNTIME_INTEGRATION_TESTS})
target_link_libraries(runtime_integration_tests PRIVATE kernel::runtime doctest::doctest PkgConfig::HTTPLIB)
target_include_directories(runtime_integration_tests PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
target_compile_definitions(runtime_integration_tests PRIVATE
  KERNEL_PROBE="${CMAKE_CURRENT_SOURCE_DIR}/runtime/integration/probe.py")
# requester_test.cpp runs it-kernel as a process, to SIGKILL it.
target_compile_definitions(runtime_integration_tests PRIVATE IT_KERNEL_BINARY="$<TARGET_FILE:it-kernel>")
add_dependencies(runtime_integration_tests it-kernel)
# CTest entries of at most six test cases each (doctest's --first/--last over its file order), so
# that `ctest -j` runs them side by side: the cases spend nearly all their time waiting on the
# broker (a group's first join alone is 3 s on the mock), not on the CPU. A new case joins a
# shard by itself.
set(RUNTIME_INTEGRATION_CASES_PER_SHARD 6)
set(case_count 0)
foreach(file IN LISTS RUNTIME_INTEGRATION_TESTS)
  file(STRINGS "${file}" cases REGEX "^TEST_CASE")
  list(LENGTH cases n)
  math(EXPR case_count "${case_count} + ${n}")
endforeach()
math(EXPR last_shard "(${case_count} - 1) / ${RUNTIME_INTEGRATION_CASES_PER_SHARD}")
foreach(shard RANGE ${last_shard})
  math(EXPR first "${shard} * ${RUNTIME_INTEGRATION_CASES_PER_SHARD} + 1")
  math(EXPR last "${first} + ${RUNTIME_INTEGRATION_CASES_PER_SHARD} - 1")
  if(shard EQUAL last_shard)
    set(last 1000000)  # and any case the count above missed
  endif()
  add_test(NAME runtime_integration_tests_${shard} COMMAND runtime_integration_tests --first=${first} --last=${last})
  set_tests_properties(runtime_integration_tests_${shard} PROPERTIES TIMEOUT 600 LABELS integration COST 100)
endforeach()

set(it_kernel "IT_KERNEL=$<TARGET_FILE:it-kernel>")
kernel_python_test(runtime_process_tests MODULE test_process FOLDER runtime/integration TIMEOUT 600
                   ENVIRONMENT ${it_kernel})
kernel_python_test(runtime_concurrency_tests MODULE test_concurrency FOLDER runtime/integration TIMEOUT 300
                   ENVIRONMENT ${it_kernel})
kernel_python_test(runtime_settings_tests MODULE test_settings FOLDER runtime/integration TIMEOUT 180
                   ENVIRONMENT ${it_kernel} "SETTINGS_KERNEL=$<TARGET_FILE:settings-kernel>"
                               "EXAMPLE_BULK_SINK=$<TARGET_FILE:example-bulk-sink>")
kernel_python_test(runtime_lifecycle_tests MODULE test_lifecycle FOLDER runtime/integration TIMEOUT 300
                   ENVIRONMENT ${it_kernel} "EXAMPLE_KERNEL=$<TARGET_FILE:example-enricher>")
kernel_python_test(runtime_memory_tests MODULE test_memory FOLDER runtime/integration TIMEOUT 300
                   ENVIRONMENT ${it_kernel})
kernel_python_test(runtime_pipeline_tests MODULE test_pipelines FOLDER runtime/integration TIMEOUT 300
                   ENVIRONMENT ${it_kernel})
kernel_python_test(runtime_trace_context_tests MODULE test_trace_context FOLDER runtime/integration TIMEOUT 120
                   ENVIRONMENT ${it_kernel})
