# Interoperability with clients no one here wrote, through the schema registry stand-in
# (tests/tools/schema_registry_standin.py): Node's kafkajs with @kafkajs/confluent-schema-registry
# (tests/interop/node, installed into the build tree once by the interop_node_install fixture).
find_program(NPM_PROGRAM npm)
set(INTEROP_NODE_DIR "${CMAKE_CURRENT_BINARY_DIR}/interop-node")
add_test(NAME interop_node_install
         COMMAND ${CMAKE_COMMAND} -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/interop/node
                 -DDESTINATION=${INTEROP_NODE_DIR} -DNPM=${NPM_PROGRAM}
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/interop/node_install.cmake)
set_tests_properties(interop_node_install PROPERTIES FIXTURES_SETUP interop_node TIMEOUT 300 LABELS integration)

kernel_python_test(interop_node_peers MODULE test_node_peers FOLDER interop TIMEOUT 120
  ENVIRONMENT "NODE_PEER=${INTEROP_NODE_DIR}/peer.js")
set_tests_properties(interop_node_peers PROPERTIES FIXTURES_REQUIRED interop_node)

# kafkajs -> a kernel -> kafkajs, both formats: avro-kernel (Message::avro(), Outgoing::avro(),
# linking kernel::avro) and schema.cmake's protobuf-kernel, with the Node peer on each side.
add_executable(avro-kernel interop/avro_kernel.cpp)
target_link_libraries(avro-kernel PRIVATE kernel::avro kernel::runtime)
kernel_python_test(interop_node_kernels MODULE test_node_kernels FOLDER interop TIMEOUT 120
  ENVIRONMENT "NODE_PEER=${INTEROP_NODE_DIR}/peer.js" "AVRO_KERNEL=$<TARGET_FILE:avro-kernel>"
              "PROTOBUF_KERNEL=$<TARGET_FILE:protobuf-kernel>")
set_tests_properties(interop_node_kernels PROPERTIES FIXTURES_REQUIRED interop_node)
