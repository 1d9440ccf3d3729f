# Installs the runtime as a CMake package:
#   find_package(kernel_runtime 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE kernel::runtime)
#   kernel_add_configuration_test(app)   # the kernel's configuration files against its binary
#   kernel_precompile_headers(app app_test)  # the heavy headers compiled once for both
#   target_link_libraries(app_test PRIVATE kernel::doctest_main)  # doctest's main, compiled
include(CMakePackageConfigHelpers)

set(KERNEL_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/kernel_runtime")

install(TARGETS kernel_runtime kernel_config kernel_doctest_main kernel_avro EXPORT kernel_runtimeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY runtime/include/kernel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT kernel_runtimeTargets NAMESPACE kernel:: DESTINATION ${KERNEL_CMAKE_DIR})

configure_package_config_file(cmake/kernel_runtimeConfig.cmake.in
  "${PROJECT_BINARY_DIR}/kernel_runtimeConfig.cmake"
  INSTALL_DESTINATION ${KERNEL_CMAKE_DIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/kernel_runtimeConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/kernel_runtimeConfig.cmake"
              "${PROJECT_BINARY_DIR}/kernel_runtimeConfigVersion.cmake"
              # kernel_add_configuration_test() and kernel_precompile_headers(), which the
              # config file includes, and the former's script.
              cmake/kernel_configuration_test.cmake cmake/check_configuration_files.cmake
              cmake/kernel_precompile_headers.cmake
        DESTINATION ${KERNEL_CMAKE_DIR})

# The runtime's documentation, which generated kernels' READMEs point to.
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
