# Fault tests (issue 15 section 7): a purpose-built kernel on kernel-dev-broker under random
# handler failures (in-place retries and retry topics), a 20 s downstream outage with the
# circuit breaker, SIGKILLs and poison inputs; every input id accounted for, checked with
# confluent-kafka. About 85 s on 2 busy cores. The in-process fault injection (produce errors
# on output, retry and dead-letter topics; broker down and up) lives in
# runtime_integration_tests (tests/runtime/integration/faults_test.cpp).
add_executable(faults-kernel runtime/faults/faults_kernel.cpp)
target_link_libraries(faults-kernel PRIVATE kernel::runtime)

find_program(FAULTS_PYTHON /usr/bin/python3 REQUIRED)
add_test(NAME runtime_fault_tests
  COMMAND ${FAULTS_PYTHON} -m unittest -v test_faults
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/runtime/faults)
set_tests_properties(runtime_fault_tests PROPERTIES TIMEOUT 300 LABELS integration
  ENVIRONMENT "FAULTS_KERNEL=$<TARGET_FILE:faults-kernel>;DEV_BROKER=$<TARGET_FILE:kernel-dev-broker>")

# Exactly-once under SIGKILL (docs/exactly-once.md): EOS_MESSAGES inputs (10,000 here), three
# kills; KERNEL_TEST_KAFKA=host:port runs it against a real broker, which can assert 0 duplicates.
add_test(NAME runtime_exactly_once_tests
  COMMAND ${FAULTS_PYTHON} -m unittest -v test_exactly_once
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/runtime/faults)
set_tests_properties(runtime_exactly_once_tests PROPERTIES TIMEOUT 300 LABELS integration
  ENVIRONMENT "FAULTS_KERNEL=$<TARGET_FILE:faults-kernel>;DEV_BROKER=$<TARGET_FILE:kernel-dev-broker>")
