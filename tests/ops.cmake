# Operations: health, readiness, metrics (promtool, a real Prometheus), admin endpoints,
# --health-check and kernel-admin, on kernel binaries and kernel-dev-broker, checked with
# confluent-kafka. Needs the it-kernel target from integration.cmake.
find_program(PROMETHEUS_BINARY prometheus)
find_program(PROMTOOL_BINARY promtool)
if(TARGET it-kernel AND PROMETHEUS_BINARY AND PROMTOOL_BINARY)
  kernel_python_test(runtime_ops_tests MODULE test_ops FOLDER runtime/ops TIMEOUT 300
                     ENVIRONMENT "IT_KERNEL=$<TARGET_FILE:it-kernel>" "ADMIN_TOOL=$<TARGET_FILE:kernel-admin>"
                                 "PROMETHEUS=${PROMETHEUS_BINARY}" "PROMTOOL=${PROMTOOL_BINARY}")
else()
  message(WARNING "prometheus/promtool not found: the operations tests are not registered (apt install prometheus)")
endif()

# kernel-admin dlq list|stats|replay on kernel-dev-broker (and one it-kernel run that
# dead-letters for real), checked with confluent-kafka.
if(TARGET it-kernel)
  kernel_python_test(runtime_dlq_tests MODULE test_dlq FOLDER runtime/ops TIMEOUT 300
                     ENVIRONMENT "IT_KERNEL=$<TARGET_FILE:it-kernel>" "ADMIN_TOOL=$<TARGET_FILE:kernel-admin>")
endif()

# A kernel's own metrics, the process's and librdkafka's, read back by a real Prometheus with
# promtool; a 10,000-value label flood stays at KERNEL_METRICS_MAX_SERIES (about 10 s).
if(TARGET it-kernel AND PROMETHEUS_BINARY AND PROMTOOL_BINARY)
  kernel_python_test(runtime_own_metrics_tests MODULE test_own_metrics FOLDER runtime/ops TIMEOUT 120
                     ENVIRONMENT "IT_KERNEL=$<TARGET_FILE:it-kernel>" "PROMETHEUS=${PROMETHEUS_BINARY}"
                                 "PROMTOOL=${PROMTOOL_BINARY}")
endif()

# Fleet-wide pause and resume through the control topic: three it-kernel instances, one
# SIGKILLed and restarted while paused, kernel-admin pause|resume (about 25 s).
if(TARGET it-kernel)
  kernel_python_test(runtime_fleet_tests MODULE test_fleet FOLDER runtime/ops TIMEOUT 120
                     ENVIRONMENT "IT_KERNEL=$<TARGET_FILE:it-kernel>" "ADMIN_TOOL=$<TARGET_FILE:kernel-admin>")
endif()
