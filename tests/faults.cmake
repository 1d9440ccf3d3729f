# Fault tests (issue 15 section 7): a purpose-built kernel on kernel-dev-broker under random
# handler failures (in-place retries and retry topics), a 20 s downstream outage with the
# circuit breaker, SIGKILLs and poison inputs; every input id accounted for, checked with
# confluent-kafka. About 85 s on 2 busy cores. The in-process fault injection (produce errors
# on output, retry and dead-letter topics; broker down and up) lives in
# runtime_integration_tests (tests/runtime/integration/faults_test.cpp).
add_executable(faults-kernel runtime/faults/faults_kernel.cpp)
target_link_libraries(faults-kernel PRIVATE kernel::runtime)

kernel_python_test(runtime_fault_tests MODULE test_faults FOLDER runtime/faults TIMEOUT 300
                   ENVIRONMENT "FAULTS_KERNEL=$<TARGET_FILE:faults-kernel>")

# Exactly-once under SIGKILL (docs/exactly-once.md): EOS_MESSAGES inputs (10,000 here), three
# kills; KERNEL_TEST_KAFKA=host:port runs it against a real broker, which can assert 0 duplicates.
kernel_python_test(runtime_exactly_once_tests MODULE test_exactly_once FOLDER runtime/faults TIMEOUT 300
                   ENVIRONMENT "FAULTS_KERNEL=$<TARGET_FILE:faults-kernel>")
