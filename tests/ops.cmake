# Operations: health, readiness, metrics (promtool, a real Prometheus), admin endpoints,
# --health-check and kernel-admin, on kernel binaries and kernel-dev-broker, checked with
# confluent-kafka. Needs the it-kernel target from integration.cmake.
find_program(PROMETHEUS_BINARY prometheus)
find_program(PROMTOOL_BINARY promtool)
if(TARGET it-kernel AND PROMETHEUS_BINARY AND PROMTOOL_BINARY)
  add_test(NAME runtime_ops_tests
    COMMAND ${SYSTEM_PYTHON} -m unittest -v test_ops
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/runtime/ops)
  set_tests_properties(runtime_ops_tests PROPERTIES TIMEOUT 300 LABELS integration
    ENVIRONMENT "IT_KERNEL=$<TARGET_FILE:it-kernel>;DEV_BROKER=$<TARGET_FILE:kernel-dev-broker>;ADMIN_TOOL=$<TARGET_FILE:kernel-admin>;PROMETHEUS=${PROMETHEUS_BINARY};PROMTOOL=${PROMTOOL_BINARY}")
else()
  message(WARNING "prometheus/promtool not found: the operations tests are not registered (apt install prometheus)")
endif()

# kernel-admin dlq list|stats|replay on kernel-dev-broker (and one it-kernel run that
# dead-letters for real), checked with confluent-kafka.
if(TARGET it-kernel)
  add_test(NAME runtime_dlq_tests
    COMMAND ${SYSTEM_PYTHON} -m unittest -v test_dlq
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/runtime/ops)
  set_tests_properties(runtime_dlq_tests PROPERTIES TIMEOUT 300 LABELS integration
    ENVIRONMENT "IT_KERNEL=$<TARGET_FILE:it-kernel>;DEV_BROKER=$<TARGET_FILE:kernel-dev-broker>;ADMIN_TOOL=$<TARGET_FILE:kernel-admin>")
endif()
