# Builds each example on its own against the runtime the package test installed (PREFIX), as a
# team that copies one out does: configure, build, ctest. The unit tests and the pipeline's
# run.py test run here; the two long process tests (postgres-sink's 50,000 orders,
# http-enricher's outage) run in the project's own build on the same sources, so here they are
# only checked to be registered. Compiled without optimisation, in groups (a unity build): the
# cheapest build that proves the standalone CMake files, includes and links.
# Run as: cmake -DSOURCE_DIR=<examples> -DPREFIX=<installed runtime> -DWORK_DIR=<scratch> -P build_examples_alone.cmake
set(examples postgres-sink http-enricher pipeline)
set(long_tests postgres_sink_process_tests http_enricher_process_tests)
if(NOT EXISTS "${PREFIX}/bin/kernel-dev-broker")
  message(FATAL_ERROR "no installed runtime in ${PREFIX}: the package test (package_install_and_consume) installs it")
endif()
foreach(example IN LISTS examples)
  set(build "${WORK_DIR}/${example}")
  file(REMOVE_RECURSE "${build}")
  string(TIMESTAMP started "%s")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/${example}" -B "${build}" "-DCMAKE_PREFIX_PATH=${PREFIX}"
                          -DCMAKE_BUILD_TYPE= -DCMAKE_UNITY_BUILD=ON
                  RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(failed)
    message(FATAL_ERROR "${example}: configuring it alone failed:\n${output}")
  endif()
  # kernel-dev-broker must come from the installed runtime, not from the project's build.
  file(STRINGS "${build}/CMakeCache.txt" broker REGEX "^KERNEL_DEV_BROKER:")
  string(REGEX REPLACE "^[^=]*=" "" broker "${broker}")
  if(NOT broker STREQUAL "${PREFIX}/bin/kernel-dev-broker")
    message(FATAL_ERROR "${example}: kernel-dev-broker was not found in the installed runtime: ${broker}")
  endif()
  execute_process(COMMAND nice -n 10 ${CMAKE_COMMAND} --build "${build}" -j 2
                  RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(failed)
    message(FATAL_ERROR "${example}: building it alone failed:\n${output}")
  endif()
  # Each registers its unit tests and a process test; the long ones are listed, not run.
  execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir "${build}" -N OUTPUT_VARIABLE listed)
  string(REGEX MATCHALL "Test +#[0-9]+: [a-z_]+" registered "${listed}")
  list(LENGTH registered count)
  if(NOT count EQUAL 2)
    message(FATAL_ERROR "${example}: expected a unit test and a process test, CTest lists:\n${listed}")
  endif()
  list(JOIN long_tests "|" long_pattern)
  execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir "${build}" --output-on-failure -E "^(${long_pattern})$"
                  RESULT_VARIABLE failed OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(failed)
    message(FATAL_ERROR "${example}: its tests failed when built alone:\n${output}")
  endif()
  string(REGEX MATCHALL "Test +#[0-9]+: [a-z_]+ [.]+ +Passed" ran "${output}")
  list(LENGTH ran ran_count)
  string(TIMESTAMP ended "%s")
  math(EXPR seconds "${ended} - ${started}")
  message(STATUS "${example}: configured, built and tested alone in ${seconds} s (${ran_count} of ${count} tests run)")
endforeach()
