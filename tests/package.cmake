# The installed package, consumed by a separate project (find_package + kernel::runtime).
add_test(NAME package_install_and_consume
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR}
          -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/package
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package-test
          -P ${CMAKE_CURRENT_SOURCE_DIR}/package/run_package_test.cmake)
set_tests_properties(package_install_and_consume PROPERTIES TIMEOUT 600 LABELS package)
