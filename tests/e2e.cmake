# End to end: the installed new-kernel generates each pattern; each kernel is built with
# warnings as errors, runs its own tests, then runs against kernel-dev-broker with messages
# sent and checked by confluent-kafka. Builds four kernels: several minutes on 2 cores.
if(NOT TARGET new-kernel)
  return()
endif()

# Debian's python3 has confluent_kafka (python3-confluent-kafka); another python3 on PATH may not.
find_program(SYSTEM_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
add_test(NAME e2e_generated_kernels
         COMMAND "${SYSTEM_PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e_test.py"
                 --prefix "${CMAKE_BINARY_DIR}/test-install")
set_tests_properties(e2e_generated_kernels PROPERTIES
  FIXTURES_REQUIRED installed_new_kernel
  LABELS e2e
  TIMEOUT 900
  PROCESSORS 2)  # its builds use both cores, niced so the tests beside it keep their timing

# A --format protobuf kernel (tests/data/schemas/order.proto): protoc through FindProtobuf, built
# with warnings as errors, its own tests and samples, then an Order through it and the schema
# registry stand-in with confluent-kafka-python. One kernel build: about 120 s in all.
add_test(NAME e2e_protobuf_kernel
         COMMAND "${SYSTEM_PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/e2e/formats_e2e_test.py"
                 --prefix "${CMAKE_BINARY_DIR}/test-install")
set_tests_properties(e2e_protobuf_kernel PROPERTIES
  FIXTURES_REQUIRED installed_new_kernel
  LABELS e2e
  TIMEOUT 600
  PROCESSORS 2)
