# Installs the runtime as a CMake package:
#   find_package(kernel_runtime 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE kernel::runtime)
#   kernel_add_configuration_test(app)   # the kernel's configuration files against its binary
include(CMakePackageConfigHelpers)

set(KERNEL_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/kernel_runtime")

install(TARGETS kernel_runtime kernel_config EXPORT kernel_runtimeTargets
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
              # kernel_add_configuration_test(), which the config file includes, and its script.
              cmake/kernel_configuration_test.cmake cmake/check_configuration_files.cmake
        DESTINATION ${KERNEL_CMAKE_DIR})

# The runtime's documentation, which generated kernels' READMEs point to.
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
