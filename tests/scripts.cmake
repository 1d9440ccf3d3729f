# The scripts' own helpers (scripts/progress.py, scripts/steps.sh): what scripts/quickstart.sh
# and scripts/test.sh show of a build and of the tests. No build needed.
find_program(SCRIPTS_PYTHON /usr/bin/python3 REQUIRED)
foreach(helper IN ITEMS progress steps)
  add_test(NAME scripts_${helper}
           COMMAND "${SCRIPTS_PYTHON}" "${CMAKE_CURRENT_SOURCE_DIR}/scripts/${helper}_test.py"
                   --source "${PROJECT_SOURCE_DIR}")
  set_tests_properties(scripts_${helper} PROPERTIES TIMEOUT 60 LABELS unit)
endforeach()
