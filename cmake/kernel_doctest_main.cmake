# kernel::doctest_main: doctest's implementation and main(), compiled once with the runtime and
# installed with it, so that a kernel's test programs link it instead of each compiling doctest
# (DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN): 7 to 12 s of CPU in each of a kernel's two test files,
# a fifth to a third of a fresh kernel build. A static library, so a test file that still
# defines its own main() (kernels generated before templates 1.9.0) links as before: nothing
# of it is pulled in then.
# Its source is generated: two lines, and no header of the runtime's own.
set(KERNEL_DOCTEST_MAIN_SOURCE "${PROJECT_BINARY_DIR}/kernel_doctest_main.cpp")
file(CONFIGURE OUTPUT "${KERNEL_DOCTEST_MAIN_SOURCE}" CONTENT
  "// doctest's implementation and main() (cmake/kernel_doctest_main.cmake).\n#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n")
kernel_library(doctest_main "${KERNEL_DOCTEST_MAIN_SOURCE}")
# doctest's headers only while compiling it: the exported target then needs no doctest package.
target_include_directories(kernel_doctest_main PRIVATE $<TARGET_PROPERTY:doctest::doctest,INTERFACE_INCLUDE_DIRECTORIES>)
