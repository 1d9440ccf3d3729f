# The installed package, consumed by a separate project (find_package + kernel::runtime).
add_test(NAME package_install_and_consume
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR}
          -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/package
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package-test -DALLOCATOR=${KERNEL_ALLOCATOR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/package/run_package_test.cmake)
set_tests_properties(package_install_and_consume PROPERTIES TIMEOUT 600 LABELS package FIXTURES_SETUP installed_runtime)

# The examples that promise to stand alone, each configured, built and tested on its own
# against the runtime the test above installed (package/build_examples_alone.cmake).
if(KERNEL_BUILD_EXAMPLES)
  add_test(NAME examples_build_alone
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}/examples
            -DPREFIX=${CMAKE_CURRENT_BINARY_DIR}/package-test/prefix -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/examples-alone
            -P ${CMAKE_CURRENT_SOURCE_DIR}/package/build_examples_alone.cmake)
  set_tests_properties(examples_build_alone PROPERTIES TIMEOUT 900 LABELS "package;examples" PROCESSORS 2
    FIXTURES_REQUIRED installed_runtime)
endif()

# docs/configuration.md is rendered from the registry; this fails when they drift apart
# (scripts/update-config-docs.sh regenerates it).
add_executable(config-docs tools/config_docs.cpp)
target_link_libraries(config-docs PRIVATE kernel::config)
target_include_directories(config-docs PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)  # config/registry.hpp
add_test(NAME config_docs_match_registry
  COMMAND ${CMAKE_COMMAND} -DDOCS_TOOL=$<TARGET_FILE:config-docs> -DDOCS=${PROJECT_SOURCE_DIR}/docs/configuration.md
          -P ${CMAKE_CURRENT_SOURCE_DIR}/tools/compare_config_docs.cmake)
set_tests_properties(config_docs_match_registry PROPERTIES TIMEOUT 60 LABELS unit)
