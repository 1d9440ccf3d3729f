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
