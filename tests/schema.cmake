# Schema registry tests (docs/interop.md#schema-registry): the tests' Protobuf messages
# (tests/data/kernel_test.proto) compiled by protoc for C++ (the unit tests and protobuf-kernel)
# and for Python (kernel_test_pb2.py beside this build's tests, for the confluent-kafka peers).
protobuf_generate_cpp(KERNEL_TEST_PROTO_SOURCES KERNEL_TEST_PROTO_HEADERS data/kernel_test.proto)
add_library(kernel_test_proto STATIC ${KERNEL_TEST_PROTO_SOURCES})
set_target_properties(kernel_test_proto PROPERTIES UNITY_BUILD OFF POSITION_INDEPENDENT_CODE ON)
target_include_directories(kernel_test_proto PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(kernel_test_proto PUBLIC protobuf::libprotobuf)
target_link_libraries(runtime_unit_tests PRIVATE kernel_test_proto)

protobuf_generate_python(KERNEL_TEST_PROTO_PYTHON data/kernel_test.proto)
add_custom_target(kernel_test_proto_python ALL DEPENDS ${KERNEL_TEST_PROTO_PYTHON})

# A kernel that reads a kernel_test.Order through the registry and writes one back.
add_executable(protobuf-kernel runtime/integration/protobuf_kernel.cpp)
target_link_libraries(protobuf-kernel PRIVATE kernel::runtime kernel_test_proto)
add_dependencies(protobuf-kernel kernel_test_proto_python)
kernel_python_test(runtime_schema_registry_tests MODULE test_schema_registry FOLDER runtime/integration TIMEOUT 120
                   ENVIRONMENT "PROTOBUF_KERNEL=$<TARGET_FILE:protobuf-kernel>"
                               "KERNEL_TEST_PROTO_PYTHON=${CMAKE_CURRENT_BINARY_DIR}")

# The stand-in itself, against confluent-kafka-python's SchemaRegistryClient.
kernel_python_test(schema_registry_standin_tests MODULE test_schema_registry_standin FOLDER tools TIMEOUT 60)
