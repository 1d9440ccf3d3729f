# new-kernel: unit tests of the generator library, then the installed binary: golden files
# and command-line behaviour. The end-to-end test (tests/e2e.cmake) shares the install.

# Code, docs, tests and generated files cite the project's own docs/, nothing outside it.
# Needs a git checkout (it asks git which files belong to the project).
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  add_test(NAME repository_stands_alone
           COMMAND "${CMAKE_COMMAND}" -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -P "${CMAKE_CURRENT_SOURCE_DIR}/tools/stands_alone.cmake")
  set_tests_properties(repository_stands_alone PROPERTIES TIMEOUT 60 LABELS "unit;generator")
endif()

if(NOT TARGET new-kernel)
  return()
endif()

file(GLOB GENERATOR_UNIT_TESTS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/generator/*.cpp")
add_executable(generator_unit_tests ${GENERATOR_UNIT_TESTS})
target_link_libraries(generator_unit_tests PRIVATE new_kernel::generator doctest::doctest)
target_compile_options(generator_unit_tests PRIVATE -Wall -Wextra -Wpedantic)
add_test(NAME generator_unit_tests COMMAND generator_unit_tests)
set_tests_properties(generator_unit_tests PROPERTIES TIMEOUT 60 LABELS "unit;generator")

# The installed tree (runtime package, tools, new-kernel), as a user gets it.
set(NEW_KERNEL_TEST_PREFIX "${CMAKE_BINARY_DIR}/test-install")
add_test(NAME generator_install
         COMMAND "${CMAKE_COMMAND}" --install "${CMAKE_BINARY_DIR}" --prefix "${NEW_KERNEL_TEST_PREFIX}")
set_tests_properties(generator_install PROPERTIES FIXTURES_SETUP installed_new_kernel TIMEOUT 120
                                                  LABELS generator)

find_program(PYTHON3 NAMES python3 REQUIRED)
add_test(NAME generator_golden
         COMMAND "${PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/generator/golden.py"
                 --new-kernel "${NEW_KERNEL_TEST_PREFIX}/bin/new-kernel"
                 --golden "${CMAKE_CURRENT_SOURCE_DIR}/golden")
set_tests_properties(generator_golden PROPERTIES FIXTURES_REQUIRED installed_new_kernel TIMEOUT 60
                                                 LABELS generator)

add_test(NAME generator_cli
         COMMAND "${PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/generator/cli_test.py"
                 --new-kernel "${NEW_KERNEL_TEST_PREFIX}/bin/new-kernel")
set_tests_properties(generator_cli PROPERTIES FIXTURES_REQUIRED installed_new_kernel TIMEOUT 120
                                              LABELS generator)

# The README's shell commands, checked against the demo kernel scripts/quickstart.sh makes
# (generated here with the same arguments) and the tools the install puts in bin/.
add_test(NAME generator_readme
         COMMAND "${PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/generator/readme_test.py"
                 --new-kernel "${NEW_KERNEL_TEST_PREFIX}/bin/new-kernel" --source "${PROJECT_SOURCE_DIR}")
set_tests_properties(generator_readme PROPERTIES FIXTURES_REQUIRED installed_new_kernel TIMEOUT 60
                                                 LABELS generator)

# upgrade, check and diff: one scenario per case, each on a kernel generated from a copy of
# templates/kernel that the test then changes as a template release would. No kernel builds.
add_test(NAME generator_upgrade
         COMMAND "${PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/generator/upgrade_test.py"
                 --new-kernel "${NEW_KERNEL_TEST_PREFIX}/bin/new-kernel"
                 --templates "${PROJECT_SOURCE_DIR}/templates/kernel")
set_tests_properties(generator_upgrade PROPERTIES FIXTURES_REQUIRED installed_new_kernel TIMEOUT 120
                                                  LABELS generator)

# End to end: a kernel with the team's edits upgraded across a real template change (on a
# copy of templates/kernel), then built with warnings as errors and run through its own tests.
add_test(NAME e2e_upgrade
         COMMAND "${PYTHON3}" "${CMAKE_CURRENT_SOURCE_DIR}/generator/upgrade_e2e_test.py"
                 --prefix "${NEW_KERNEL_TEST_PREFIX}" --templates "${PROJECT_SOURCE_DIR}/templates/kernel")
set_tests_properties(e2e_upgrade PROPERTIES FIXTURES_REQUIRED installed_new_kernel LABELS e2e TIMEOUT 600
                                            PROCESSORS 2)
