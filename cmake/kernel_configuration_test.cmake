# kernel_add_configuration_test(<kernel> [NAME <test>] [SOURCE_DIR <dir>])
#
# Adds the test (`configuration_files` unless NAME says otherwise) that keeps a kernel's
# configuration files true to its binary: check_configuration_files.cmake runs the <kernel>
# target's `--print-config --format json` and checks .env.template, deploy/kubernetes.yaml and
# docs/message-spec.md under SOURCE_DIR (the calling CMakeLists.txt's folder by default)
# against it. Shipped in the kernel_runtime package rather than copied into every kernel, so
# that a fix to the check reaches kernels with a runtime upgrade.
function(kernel_add_configuration_test kernel)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "NAME;SOURCE_DIR" "")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kernel_add_configuration_test: unexpected arguments: ${arg_UNPARSED_ARGUMENTS} "
                        "(expected <kernel> [NAME <test>] [SOURCE_DIR <dir>])")
  endif()
  if(NOT TARGET ${kernel})
    message(FATAL_ERROR "kernel_add_configuration_test: ${kernel} is not a target; give the kernel's executable")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME configuration_files)
  endif()
  if(NOT arg_SOURCE_DIR)
    set(arg_SOURCE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  add_test(NAME ${arg_NAME}
           COMMAND ${CMAKE_COMMAND} -DKERNEL=$<TARGET_FILE:${kernel}> "-DSOURCE=${arg_SOURCE_DIR}"
                   -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_configuration_files.cmake")
  set_tests_properties(${arg_NAME} PROPERTIES LABELS unit TIMEOUT 60)
endfunction()
